/**
 * The dashboard's routes on the gateway's uWS app:
 *   GET /dash             the page (auth when on: ?token= or Authorization)
 *   GET /dash/<asset>     its script, style and uPlot (no data in them: served without auth)
 *   GET /dash/node.json   this node's own figures, read by the other nodes' dashboards (auth when on)
 *   WS  /dash/ws          the live snapshots, JSON, one a second (auth when on: ?token=)
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { AuthResult, Authenticator } from '../gateway/auth.js';
import { presentedToken, whenVerified } from '../gateway/auth.js';
import { dashboardAssets } from './assets-files.js';
import type { Dashboard, DashSink } from './dashboard.js';
import type { NodeStats } from './node-stats.js';

export interface DashRoutesDeps {
  readonly dashboard: Dashboard;
  readonly local: () => NodeStats;
  readonly auth: Authenticator;
  readonly recordError: (code: 'E_UNAUTHORIZED') => void;
}

interface DashSocketData {
  sink: DashSink | null;
}

// A page that does not read its snapshots gets none until it catches up (they are all replaceable).
const SKIP_ABOVE_BYTES = 1024 * 1024;

export function addDashboardRoutes(app: TemplatedApp, d: DashRoutesDeps): void {
  const assets = dashboardAssets();

  /** Answers after the request's token is checked; uWS's request dies with its callback, so it is read first. */
  const guarded = (res: HttpResponse, req: HttpRequest, answer: () => void): void => {
    const token = presentedToken(req.getHeader('authorization'), req.getQuery() ?? '');
    whenVerified(res, d.auth.verify(token), (r: AuthResult) => {
      if ('error' in r) {
        d.recordError('E_UNAUTHORIZED');
        res.cork(() => res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json').end(JSON.stringify({ code: r.error.code, message: `${r.error.message}; open /dash?token=<jwt>` })));
        return;
      }
      res.cork(answer);
    });
  };

  const page = (res: HttpResponse, req: HttpRequest): void => {
    const a = assets.get('index.html')!;
    guarded(res, req, () => res.writeHeader('content-type', a.type).writeHeader('cache-control', 'no-store').end(a.body));
  };
  app.get('/dash', page);
  app.get('/dash/', page);

  for (const [name, a] of assets) {
    if (name === 'index.html') continue;
    app.get(`/dash/${name}`, (res) => {
      res.writeHeader('content-type', a.type).writeHeader('cache-control', 'max-age=300').end(a.body);
    });
  }

  app.get('/dash/node.json', (res, req) => {
    guarded(res, req, () => res.writeHeader('content-type', 'application/json').writeHeader('cache-control', 'no-store').end(JSON.stringify(d.local())));
  });

  app.ws<DashSocketData>('/dash/ws', {
    maxPayloadLength: 4096,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      guarded(res, req, () => res.upgrade<DashSocketData>({ sink: null }, key, protocol, extensions, context));
    },
    open: (ws) => {
      const sink: DashSink = {
        send: (text) => {
          try {
            if (ws.getBufferedAmount() < SKIP_ABOVE_BYTES) ws.send(text, false);
          } catch {
            // closed in between: its close handler unwatches it
          }
        },
      };
      ws.getUserData().sink = sink;
      d.dashboard.watch(sink);
    },
    close: (ws) => {
      const sink = ws.getUserData().sink;
      if (sink !== null) d.dashboard.unwatch(sink);
    },
  });
}
