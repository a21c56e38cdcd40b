/**
 * Deployment descriptions (issue 13): the Kubernetes manifests of deploy/k8s
 * validated against the Kubernetes schemas (kubernetes-models: the API's
 * OpenAPI schemas compiled to validators, installed from npm, nothing
 * fetched at test time), the Helm values of the NATS chart checked for what
 * Rookery depends on, and docker-compose.yml validated by Debian's
 * `docker-compose config` when the binary exists.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const k8s = join(root, "deploy/k8s");

type Doc = { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1 Deployment": Deployment,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "v1 ConfigMap": ConfigMap,
  "v1 Service": Service,
};

/** Kubernetes reads manifests as YAML 1.1 (go-yaml): `0440` is octal there. */
function manifests(file: string): Doc[] {
  const text = readFileSync(join(k8s, file), "utf8");
  return parseAllDocuments(text, { version: "1.1" }).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  });
}

const docs = manifests("rookery.yaml");
const find = (kind: string) => docs.find((d) => d.kind === kind)!;

describe("deploy - Kubernetes manifests and compose", () => {
  it("manifests - every object of deploy/k8s/rookery.yaml is valid against the Kubernetes schema", () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(
      ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service"].sort(),
    );
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
      expect(Model, `${doc.apiVersion} ${doc.kind} has a schema here`).toBeDefined();
      expect(
        () => new Model!(doc as never).validate(),
        `${doc.kind} ${doc.metadata.name}`,
      ).not.toThrow();
    }
    // The validator is not a no-op: a wrong type and a missing field are refused.
    const broken = structuredClone(find("Deployment"));
    broken.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    delete broken.spec.selector;
    expect(() => new Deployment(broken as never).validate()).toThrow(/selector|integer/);
  });

  it("manifests - drain, probes, disruption budget, Service and secrets fit Rookery", () => {
    const deployment = find("Deployment");
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const config = find("ConfigMap").data as Record<string, string>;
    // The service is PID 1 (no shell, no npm): SIGTERM starts the drain.
    expect(container.command).toEqual(["node", "services/server/dist/main.js"]);
    // The grace outlasts the preStop pause, the clients' drain window and the rooms' hand-over.
    const preStop = container.lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe("sleep");
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      Number(preStop[1]) + Number(config.ROOKERY_DRAIN_MS) / 1000 + 30,
    );
    // Probes on the metrics port: alive while retrying NATS, ready once in the cluster.
    expect(container.livenessProbe.httpGet).toMatchObject({ path: "/healthz", port: "metrics" });
    expect(container.startupProbe.httpGet).toMatchObject({ path: "/healthz", port: "metrics" });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: "/readyz", port: "metrics" });
    const ports = Object.fromEntries(
      (container.ports as { name: string; containerPort: number }[]).map((p) => [
        p.name,
        p.containerPort,
      ]),
    );
    expect(ports.metrics).toBe(Number(config.ROOKERY_METRICS_PORT));
    expect(ports.gateway).toBe(Number(config.ROOKERY_GATEWAY_PORT));
    // Disruption budget and Service select the Deployment's pods.
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(find("PodDisruptionBudget").spec.selector.matchLabels);
    expect(labels).toMatchObject(find("Service").spec.selector);
    expect(find("Service").spec.ports[0].targetPort).toBe("gateway");
    // Secrets come from Secrets, never from this file.
    expect(docs.some((d) => d.kind === "Secret")).toBe(false);
    expect(JSON.stringify(docs)).not.toMatch(/SU[A-Z2-7]{56}|ROOKERY_TOKEN_SECRETS?"\s*:/);
    expect(container.envFrom).toContainEqual({ secretRef: { name: "rookery-tokens" } });
    const seeds = pod.volumes.find((v: { name: string }) => v.name === "nats-seeds");
    expect(seeds.secret.secretName).toBe("rookery-nats");
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === "nats-seeds");
    expect(config.NATS_GATEWAY_NKEY).toBe(`${mount.mountPath}/gateway.nk`);
    expect(config.NATS_NODE_NKEY).toBe(`${mount.mountPath}/node.nk`);
    // Non-root, as the image.
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
  });

  it("manifests - the NATS chart values: 3 servers, JetStream, one server tag per pod, Rookery's heartbeat tags match", () => {
    const values = parse(readFileSync(join(k8s, "nats-values.yaml"), "utf8")) as {
      config: {
        cluster: { enabled: boolean; replicas: number };
        jetstream: { enabled: boolean };
        merge: Record<string, unknown>;
      };
    };
    expect(values.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(values.config.jetstream.enabled).toBe(true);
    expect(values.config.merge.server_tags).toEqual(["<< $POD_NAME >>"]);
    expect(values.config.merge.$include).toBe("auth/auth.conf");
    // StatefulSet pods are <release>-0..n-1; Rookery pins one heartbeat bucket to each.
    const tags = (find("ConfigMap").data as Record<string, string>).ROOKERY_HEARTBEAT_TAGS!.split(
      ",",
    );
    expect(tags).toEqual(
      Array.from({ length: values.config.cluster.replicas }, (_, i) => `nats-${i}`),
    );
    expect((find("ConfigMap").data as Record<string, string>).ROOKERY_REPLICAS).toBe("3");
  });

  it("compose - docker-compose.yml passes `docker-compose config` (with placeholder secrets)", (ctx) => {
    const which = spawnSync("sh", ["-c", "command -v docker-compose"], { encoding: "utf8" });
    if (which.status !== 0) {
      ctx.skip(
        "docker-compose not installed (Debian: apt-get install docker-compose); compose not validated",
      );
      return;
    }
    // deploy/secrets is generated (git-ignored): placeholders stand for it in a copy.
    const dir = mkdtempSync(join(tmpdir(), "rookery-compose-"));
    try {
      copyFileSync(join(root, "docker-compose.yml"), join(dir, "docker-compose.yml"));
      mkdirSync(join(dir, "deploy/secrets"), { recursive: true });
      for (const f of ["node.nk", "gateway.nk", "auth.conf", "rookery.env"]) {
        writeFileSync(join(dir, "deploy/secrets", f), "");
      }
      const result = spawnSync(
        "docker-compose",
        ["-f", join(dir, "docker-compose.yml"), "config", "-q"],
        {
          encoding: "utf8",
        },
      );
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const config = spawnSync(
        "docker-compose",
        ["-f", join(dir, "docker-compose.yml"), "config"],
        {
          encoding: "utf8",
        },
      );
      const compose = parse(config.stdout) as {
        services: Record<string, { command?: string[]; healthcheck?: unknown; build?: unknown }>;
      };
      for (const [name, service] of Object.entries(compose.services)) {
        if (name.startsWith("nats")) expect(service.healthcheck, name).toBeDefined();
        // Rookery services run the image's CMD (built JavaScript), never tsx.
        else expect(JSON.stringify(service.command ?? [])).not.toMatch(/tsx/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
