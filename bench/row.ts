/** One line of a benchmark table. */
export interface BenchRow {
  group: string;
  name: string;
  value: number;
  unit: string;
  note?: string;
}
