/** local and kind make a cluster of their own; existing confines a learner to namespaces of a shared cluster. */
export type EngineName = 'local' | 'kind' | 'existing';
export const ENGINES: readonly EngineName[] = ['local', 'kind', 'existing'];
/** What a lesson or a check needs: `api` runs on every engine, `kind` needs a real node and network. */
export type Requirement = 'api' | 'kind';
