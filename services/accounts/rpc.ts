/**
 * RPC handlers of the accounts service: the JWKS for the edge, and signing-key
 * administration for operators (`keys.ts`). Who may call the admin methods is
 * decided by NATS permissions: only operators' users may publish to
 * `svc.accounts.rpc.rotateKey` and `svc.accounts.rpc.removeKey`.
 */
import type { RpcHandlers } from "@runnerly/kit";
import type { accountsRpc } from "./contract.ts";
import type { KeyRing } from "./signing-keys.ts";

/** The handlers of `accountsRpc` over one instance's key ring. */
export function accountsRpcHandlers(keys: KeyRing): RpcHandlers<(typeof accountsRpc)["methods"]> {
  return {
    jwks: () => keys.jwks(),
    listKeys: () => keys.list(),
    rotateKey: () => keys.rotate(),
    removeKey: ({ kid }) => keys.remove(kid),
  };
}
