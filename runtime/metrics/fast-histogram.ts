/**
 * A latency histogram cheap enough to observe on every call. prom-client's
 * Histogram costs about 470 ns an observation here, more than a whole turn's
 * share of the gateway; this one costs a few array increments and is read by
 * prom-client's registry only when /metrics is scraped.
 */
export class FastHistogram {
  private readonly series = new Map<string, { counts: Float64Array; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    readonly bounds: readonly number[],
  ) {}

  private child(label: string): { counts: Float64Array; sum: number; count: number } {
    let s = this.series.get(label);
    if (s === undefined) {
      s = { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(label, s);
    }
    return s;
  }

  observe(label: string, value: number): void {
    const s = this.child(label);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** The shape prom-client's Registry expects from a metric. */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [label, s] of this.series) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { [this.labelName]: label, le: this.bounds[i]! }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { [this.labelName]: label, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: label }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.labelName]: label }, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  /** Every series' per-bucket counts (not cumulative), copied: for the dashboard's quantiles, read about once a second. */
  snapshot(): Record<string, { counts: number[]; count: number; sum: number }> {
    const out: Record<string, { counts: number[]; count: number; sum: number }> = {};
    for (const [label, s] of this.series) out[label] = { counts: Array.from(s.counts), count: s.count, sum: s.sum };
    return out;
  }

  reset(): void {
    this.series.clear();
  }
}
