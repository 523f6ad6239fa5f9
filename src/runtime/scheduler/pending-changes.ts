/**
 * What a change asks the next flush to do, by the name of what changed:
 *
 * | kind         | set when                                   | the flush then                          |
 * |--------------|--------------------------------------------|-----------------------------------------|
 * | `placement`  | a model's spec, scaling or pods changed    | places it again (and treats it as `model`) |
 * | `model`      | anything about a model changed             | cleans up, derives state, routes, sends operations, writes its status |
 * | `experiment` | an Experiment was added, changed, deleted  | publishes its route, writes its status  |
 * | `pipeline`   | a Pipeline was added, changed, deleted     | publishes its route                     |
 * | `server`     | a Server or one of its pods changed        | writes its status                       |
 */
export type PendingKind = 'placement' | 'model' | 'experiment' | 'pipeline' | 'server';

/**
 * The one record of changes not yet flushed. Changes are recorded by name (a model changed twice
 * is flushed once); each reconcile phase takes the kind it handles, in name order, at its point
 * in the flush, so what a phase adds for a later one is still seen in the same flush.
 */
export class PendingChanges {
  private readonly names: Record<PendingKind, Set<string>> = {
    placement: new Set(),
    model: new Set(),
    experiment: new Set(),
    pipeline: new Set(),
    server: new Set(),
  };

  add(kind: PendingKind, name: string): void {
    this.names[kind].add(name);
  }

  /** The names of `kind`, sorted, and forgets them. */
  take(kind: PendingKind): string[] {
    const names = [...this.names[kind]].sort();
    this.names[kind].clear();
    return names;
  }
}
