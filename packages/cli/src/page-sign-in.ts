/**
 * The operator-token sign-in shared by the console's pages (inline browser
 * script): the login form, and the `?token=` that `npm start` prints, kept for
 * the tab and dropped from the address bar. It uses the page's `$`, `token`,
 * `showLogin` and `open`.
 */
export const TOKEN_SIGN_IN = /* js */ `
$("#login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  token = $("#token").value.trim();
  const res = await fetch("/api/state", { headers: { authorization: "Bearer " + token } });
  if (res.status === 401) return showLogin("That token was refused.");
  sessionStorage.setItem("rookery-console-token", token);
  open();
});

const fromUrl = new URLSearchParams(location.search).get("token");
if (fromUrl) {
  token = fromUrl;
  sessionStorage.setItem("rookery-console-token", token);
  history.replaceState(null, "", location.pathname);
}
if (token) open(); else showLogin();
`;
