import type { Metric, Registry } from "prom-client";

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  /** The series name when it is not the metric's (histograms: `_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

/** What prom-client's registry reads from a metric (`type` is the exposition's string). */
interface Values {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: Sample[];
}

/**
 * Metrics recorded on a hot path (per input, per frame, per event) and
 * served by a prom-client registry like any other. prom-client validates and
 * hashes the labels on every `inc`/`observe`; with about fifteen calls per
 * input that was 5% of a co-located process's busy time under load. These
 * keep plain numbers per label value and build the exposition on scrape.
 */
abstract class HotMetric {
  readonly aggregator = "sum";
  abstract readonly type: "counter" | "histogram";

  constructor(
    readonly name: string,
    readonly help: string,
    /** The one label these metrics may have; its values name the series. */
    protected readonly labelName: string | undefined,
  ) {}

  /** Adds this metric to a registry (served by `registry.metrics()`). */
  register(registry: Registry): this {
    // The registry reads `name`, `help`, `type` and `get()`, which this provides.
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  abstract get(): Values;

  protected exposition(values: Sample[]): Values {
    const { name, help, type, aggregator } = this;
    return { name, help, type, aggregator, values };
  }

  protected labels(value: string): Record<string, string> {
    return this.labelName === undefined ? {} : { [this.labelName]: value };
  }
}

/** A counter, optionally with one label. */
export class HotCounter extends HotMetric {
  readonly type = "counter";
  readonly #counts = new Map<string, number>();

  inc(label = "", by = 1): void {
    this.#counts.set(label, (this.#counts.get(label) ?? 0) + by);
  }

  /** The count of one series. */
  value(label = ""): number {
    return this.#counts.get(label) ?? 0;
  }

  get(): Values {
    const values = [...this.#counts].map(([label, value]) => ({
      labels: this.labels(label),
      value,
    }));
    return this.exposition(values);
  }
}

interface Series {
  /** Observations per bucket (not cumulative); the last is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with fixed upper bounds, optionally with one label. */
export class HotHistogram extends HotMetric {
  readonly type = "histogram";
  readonly #series = new Map<string, Series>();
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, bounds: readonly number[], labelName?: string) {
    super(name, help, labelName);
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(value: number, label = ""): void {
    if (!Number.isFinite(value)) return;
    let series = this.#series.get(label);
    if (series === undefined) {
      series = { buckets: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series.set(label, series);
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.buckets[i]! += 1;
    series.sum += value;
    series.count += 1;
  }

  get(): Values {
    const values: Sample[] = [];
    for (const [label, series] of this.#series) {
      const labels = this.labels(label);
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += series.buckets[i]!;
        values.push({
          labels: { le, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push(
        {
          labels: { le: "+Inf", ...labels },
          value: series.count,
          metricName: `${this.name}_bucket`,
        },
        { labels, value: series.sum, metricName: `${this.name}_sum` },
        { labels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return this.exposition(values);
  }
}
