/**
 * Contract type W, plus a `never` for every field class C has and W lacks. A DTO class declared
 * `implements Exactly<Dto, Contract>` must have every field of the contract with its type (as a
 * plain `implements` checks) and no field the contract does not have, so a field added on either
 * side alone fails the typecheck.
 */
export type Exactly<C, W> = W & { [K in Exclude<keyof C, keyof W>]: never };
