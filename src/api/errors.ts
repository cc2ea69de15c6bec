import { GraphQLError } from 'graphql';
import { Field, ObjectType, registerEnumType } from 'type-graphql';

/** Codes of expected business failures, returned in a payload's `userErrors`. */
export enum ErrorCode {
  INVALID_INPUT = 'INVALID_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  INSUFFICIENT_POINTS = 'INSUFFICIENT_POINTS',
  MEMBER_IN_DEBT = 'MEMBER_IN_DEBT',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  PERIOD_NOT_ENDED = 'PERIOD_NOT_ENDED',
  PERIOD_OVERLAPS = 'PERIOD_OVERLAPS',
  ALREADY_REVERSED = 'ALREADY_REVERSED',
  LIMIT_EXCEEDED = 'LIMIT_EXCEEDED',
  OUT_OF_STOCK = 'OUT_OF_STOCK',
  NOT_ELIGIBLE = 'NOT_ELIGIBLE',
  VOUCHER_NOT_REDEEMABLE = 'VOUCHER_NOT_REDEEMABLE',
}
registerEnumType(ErrorCode, { name: 'ErrorCode', description: 'Codes of expected business failures' });

@ObjectType()
export class UserError {
  @Field(() => ErrorCode)
  code: ErrorCode;

  @Field()
  message: string;

  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault, e.g. ["input", "amount"]' })
  field?: string[];
}

export function userError(code: ErrorCode, message: string, field?: string[]): UserError {
  return { code, message, field };
}

/** An expected failure is a value: either the result, or the user errors (and nothing written). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; errors: UserError[] };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (...errors: UserError[]): { ok: false; errors: UserError[] } => ({ ok: false, errors });

export function unauthenticated(message = 'A valid token is required'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });
}

export function forbidden(message = 'Not allowed for this caller'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

export function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}
