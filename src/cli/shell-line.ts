/** What precedes the `eval "$(cd <checkout> && npx kube-seclab env)"` line wherever the CLI prints it. */
export const SHELL_LINE = "In your own shell — kubectl on the lab's cluster, `kube-seclab` in every folder:";
