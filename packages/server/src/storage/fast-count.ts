// The one rule both FastTokenStore backends apply inside their `use` transaction.

/** XEP-0484 §4.4: a count must exceed every count already processed; once a token was counted, it must always be. */
export function countAdvances(recorded: number | null, presented: number | undefined): boolean {
  if (presented === undefined) return recorded === null;
  return recorded === null || presented > recorded;
}
