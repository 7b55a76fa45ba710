/**
 * The folders a backfill lists: in a partition laid out by date (`<partition>/2026/11/23/`, as
 * CloudTrail, VPC flow logs, load balancers, WAF and Config write), only the day folders of the
 * range — a week of a year-old bucket is seven listings, not the year's.
 */
const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A UTC day (YYYY-MM-DD) from a date or a time (`2026-11-23`, `2026-11-23T08:00Z`); undefined when it is neither. */
export function utcDayOf(text: string): string | undefined {
  const ms = DAY.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const day = new Date(ms).toISOString().slice(0, 10);
  // Date.parse rolls 2026-02-30 over into March; a day that does not exist is refused instead.
  if (DAY.test(text) && day !== text) return undefined;
  return day;
}

/** The days from `fromDay` to `toDay`, both included. */
export function daysOf(fromDay: string, toDay: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${fromDay}T00:00:00Z`); ms <= Date.parse(`${toDay}T00:00:00Z`); ms += DAY_MS) days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

/** The start and end (exclusive) of a range of days, in ms. */
export function spanOf(fromDay: string, toDay: string): { startMs: number; endMs: number } {
  return { startMs: Date.parse(`${fromDay}T00:00:00Z`), endMs: Date.parse(`${toDay}T00:00:00Z`) + DAY_MS };
}

/** A day's folder in a partition: `2026/11/09/`, or `2026/11/9/` where the writer leaves out leading zeros (AWS Config). */
export function dayFolder(partition: string, day: string, unpaddedDates: boolean): string {
  const [year, month, date] = day.split('-') as [string, string, string];
  return unpaddedDates ? `${partition}${year}/${Number(month)}/${Number(date)}/` : `${partition}${year}/${month}/${date}/`;
}
