import { FiringAlerts } from '../components/AlertList.js';
import { PanelGrid, WithDashboard } from '../components/Dashboard.js';
import { Toolbar, VariableSelect } from '../components/Toolbar.js';
import { useSearch } from '../hooks.js';
import { useScopedTenant } from '../session.js';

/** `/`: calls/s, error rate by outcome, latency per tool, top tenants and tools by errors, firing alerts. */
export function FleetPage() {
  const search = useSearch();
  const scoped = useScopedTenant();
  return (
    <main id="main" data-page="fleet">
      <h1 tabIndex={-1}>Fleet overview{scoped ? ` — ${scoped}` : ''}</h1>
      <WithDashboard id="fleet">
        {(view) => {
          const tenants = scoped ? [scoped] : search.getAll('tenant');
          const tools = search.getAll('tool');
          const vars: Array<[string, string]> = [...tenants.map((t): [string, string] => ['tenant', t]), ...tools.map((t): [string, string] => ['tool', t])];
          const toolVar = view.def.variables.find((v) => v.name === 'tool');
          return (
            <>
              <Toolbar defaultSince={view.def.defaultSince} defaultRefresh={view.def.refresh ?? 'off'}>
                <VariableSelect dashboard="fleet" name="tenant" label="Tenant" defaultSince={view.def.defaultSince} fixed={scoped} />
                {toolVar?.readable && <VariableSelect dashboard="fleet" name="tool" label="Tool" defaultSince={view.def.defaultSince} />}
              </Toolbar>
              <FiringAlerts refreshMs={view.refreshMs} tenant={scoped} />
              <PanelGrid {...view} vars={vars} />
              <p class="muted footnote">
                Panels are the Grafana fleet dashboard's queries, read through <code>/api/panels/fleet/…</code>.
              </p>
            </>
          );
        }}
      </WithDashboard>
    </main>
  );
}
