/**
 * The panel API the console reads (and anyone may): the dashboards defined in
 * src/dashboards, each panel's rows for a time range and variable selection,
 * and each variable's values. The reader's scope applies as on /api/calls.
 *
 *   GET /api/dashboards                          the definitions (no SQL)
 *   GET /api/dashboards/:dashboard
 *   GET /api/panels/:dashboard/:panel?since=6h&tenant=acme&tool=a&tool=b   (or from=&to= epoch ms)
 *   GET /api/variables/:dashboard/:variable?since=6h&tenant=acme
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/index.js';
import { DASHBOARD_DEFS, type DashboardDef } from '../dashboards/index.js';
import {
  defaultSince,
  findDashboard,
  findPanel,
  findVariable,
  parseRange,
  parseSelection,
  readsTenant,
  renderFor,
  scopeSelection,
} from './panel-query.js';
import { scopeOf, tenantOf } from './read-scope.js';

/** A dashboard as the console lays it out; `readable` says whether this reader may query the part. */
function describe(def: DashboardDef, tenant: string | undefined) {
  const scoped = tenant !== undefined;
  return {
    id: def.id,
    title: def.title,
    defaultSince: defaultSince(def),
    refresh: def.refresh ?? null,
    variables: def.variables.map((v) => ({
      name: v.name,
      label: v.label,
      multi: v.multi ?? true,
      includeAll: v.includeAll ?? true,
      readable: !scoped || v.name === 'tenant' || readsTenant(v.sql),
    })),
    panels: def.panels.map((p) => ({
      id: p.id,
      title: p.title,
      kind: p.kind,
      unit: p.unit ?? 'short',
      description: p.description ?? '',
      width: p.width ?? 12,
      readable: !scoped || readsTenant(p.sql),
    })),
  };
}

type Params = { dashboard: string; panel: string; variable: string };

export function panelsApi(store: Store) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/dashboards', async (req) => ({ dashboards: DASHBOARD_DEFS.map((d) => describe(d, tenantOf(scopeOf(req)))) }));

    app.get<{ Params: Pick<Params, 'dashboard'> }>('/api/dashboards/:dashboard', async (req) =>
      describe(findDashboard(req.params.dashboard), tenantOf(scopeOf(req))),
    );

    app.get<{ Params: Pick<Params, 'dashboard' | 'panel'> }>('/api/panels/:dashboard/:panel', async (req) => {
      const def = findDashboard(req.params.dashboard);
      const panel = findPanel(def, req.params.panel);
      const query = (req.query ?? {}) as Record<string, unknown>;
      const tenant = tenantOf(scopeOf(req));
      const range = parseRange(query, defaultSince(def));
      const selection = parseSelection(def, query);
      scopeSelection(def, selection, tenant);
      const sql = renderFor(def, panel.sql, range, selection, tenant);
      const objects = await store.query<Record<string, unknown>>(sql);
      const columns = objects.length > 0 ? Object.keys(objects[0]!) : [];
      return {
        dashboard: def.id,
        panel: panel.id,
        kind: panel.kind,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        intervalMs: range.intervalMs,
        columns,
        rows: objects.map((o) => columns.map((c) => o[c])),
      };
    });

    app.get<{ Params: Pick<Params, 'dashboard' | 'variable'> }>('/api/variables/:dashboard/:variable', async (req) => {
      const def = findDashboard(req.params.dashboard);
      const variable = findVariable(def, req.params.variable);
      const query = (req.query ?? {}) as Record<string, unknown>;
      const tenant = tenantOf(scopeOf(req));
      const range = parseRange(query, defaultSince(def));
      const selection = parseSelection(def, query);
      scopeSelection(def, selection, tenant);
      // A tenant-scoped reader's tenant picker holds its own tenant, whatever the data says.
      if (tenant !== undefined && variable.name === 'tenant') return { dashboard: def.id, variable: variable.name, values: [tenant] };
      const rows = await store.query<Record<string, unknown>>(renderFor(def, variable.sql, range, selection, tenant));
      return { dashboard: def.id, variable: variable.name, values: rows.map((r) => String(Object.values(r)[0])) };
    });
  };
}
