// Activities used by the golden diagnostic cases (declarations are what the checker reads).
export interface Vm {
  id: string;
  address: string;
}

export async function createVm(args: { name: string; size?: string }): Promise<Vm> {
  return { id: `vm-${args.name}`, address: "10.0.0.1" };
}

export async function configureVm(args: { id: string; role: string }): Promise<void> {
  void args;
}

/** Returns a Date: not JSON, so calling it is an error. */
export async function createdAt(args: { id: string }): Promise<{ id: string; created: Date }> {
  return { id: args.id, created: new Date() };
}

/** Takes a callback: no runbook value can be passed. */
export function onEvent(args: { handler: () => void }): void {
  void args;
}
