// A small method + path-pattern router (`/sandboxes/:sandboxID`), first match wins.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export type RouteHandler = (context: RouteContext) => Promise<void>;

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** The handler and params for a request, or undefined; `methodMismatch` tells a 405 from a 404. */
  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } | { methodMismatch: boolean } {
    const parts = pathname.split('/').filter(Boolean);
    let methodMismatch = false;
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      route.segments.forEach((segment, index) => {
        const part = parts[index] ?? '';
        if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(part);
        else if (segment !== part) matched = false;
      });
      if (!matched) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { handler: route.handler, params };
    }
    return { methodMismatch };
  }
}
