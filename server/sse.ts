// Server-Sent Events for the live views (the task board, a run): the stream's headers, a poll loop
// that sends what changed, keep-alive comments, and an end when the client leaves.
import type { Request, Response } from 'express';

/** Server-Sent Events: calls tick every pollMs until it returns false or the client leaves. */
export async function stream(req: Request, res: Response, pollMs: number, tick: (send: (event: string, data: unknown) => void) => Promise<boolean>): Promise<void> {
  res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  let closed = false;
  req.on('close', () => {
    closed = true;
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let beat = Date.now();
  while (!closed) {
    let more: boolean;
    try {
      more = await tick(send);
    } catch (err) {
      send('error', { error: (err as Error).message });
      more = true;
    }
    if (!more) break;
    if (Date.now() - beat > 15_000) {
      res.write(': keep-alive\n\n');
      beat = Date.now();
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  res.end();
}
