/** Long work reported step by step (CLI prints lines, the TUI renders a task list). */
export interface TaskReporter {
  task<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T>;
  info(message: string): void;
}

export const silentReporter: TaskReporter = {
  task: (_t, fn) => fn(() => {}),
  info: () => {},
};
