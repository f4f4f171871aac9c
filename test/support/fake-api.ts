import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small local HTTP server that speaks like an external API (GitHub, Jira,
 * Linear) from recorded answers. A route answers with a status, headers and a
 * JSON body, or `hang` to simulate a timeout. Every request is recorded.
 */
export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer (the client's timeout fires). */
  hang?: boolean;
}

export interface FakeRequest {
  method: string;
  path: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeApi {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export const startFakeApi = async (
  answer: (request: FakeRequest, base: string) => FakeAnswer | Promise<FakeAnswer>,
): Promise<FakeApi> => {
  const requests: FakeRequest[] = [];
  const hanging = new Set<ServerResponse>();
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      Promise.resolve(answer(request, base))
        .then((a) => {
          if (a.hang) {
            hanging.add(res);
            return;
          }
          const body = a.body === undefined ? '' : JSON.stringify(a.body);
          res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...(a.headers ?? {}) });
          res.end(a.status === 304 ? undefined : body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(error) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
