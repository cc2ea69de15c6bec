import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, ClassType, Field, Int, ObjectType } from 'type-graphql';
import { badRequest } from '../api/errors';
import { isUuid } from './ids';

/** Page sizes: `first` defaults to 20 and may not exceed 100. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** A getter: the count is a separate query, run only when a client asks for it. */
  readonly totalCount: Promise<number>;
}

/** A Relay connection type for `Node` (keyset-paginated; cursors are opaque). */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field()
    cursor: string;

    @Field(() => node)
    node: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionClass {
    @Field(() => [EdgeType])
    edges: EdgeType[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }
  return ConnectionClass;
}

export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** `timestamp`: microseconds in UTC, as `cursorTimestamp` SQL makes it (a JS Date keeps only milliseconds). */
export type CursorPart = 'uuid' | 'timestamp';

export const cursorTimestamp = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const PART_CHECKS: Record<CursorPart, (value: string) => boolean> = {
  uuid: isUuid,
  // A real instant: Date.parse rolls 2024-02-30 over to March, PostgreSQL refuses it.
  timestamp: (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(value) && !Number.isNaN(Date.parse(value))
    && new Date(value).toISOString().slice(0, 23) === value.slice(0, 23),
};

/** The parts of a cursor this server made, each of the kind given; a GraphQL error for anything else. */
export function decodeCursor(cursor: string, kinds: CursorPart[]): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === kinds.length && parts.every((p, i) => typeof p === 'string' && PART_CHECKS[kinds[i]!](p))) return parts;
  } catch {
    // fall through
  }
  throw badRequest('after is not a cursor from this list');
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `At most ${MAX_PAGE_SIZE}; default ${DEFAULT_PAGE_SIZE}` })
  @IsOptional()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  after?: string;
}

/** Turns `first + 1` fetched rows into a page. */
export function toConnection<R, T>(rows: R[], first: number, cursorOf: (row: R) => string[], nodeOf: (row: R) => T,
  totalCount: () => Promise<number>): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((row) => ({ cursor: encodeCursor(cursorOf(row)), node: nodeOf(row) }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null },
    get totalCount() {
      return totalCount();
    },
  };
}
