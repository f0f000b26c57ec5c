import { FiringAlerts } from '../components/AlertList.js';
import { PanelGrid, WithDashboard } from '../components/Dashboard.js';
import { Toolbar, VariableSelect } from '../components/Toolbar.js';
import { qs } from '../api.js';
import { useSearch } from '../hooks.js';
import { useScopedTenant } from '../session.js';

/** `/tenants/:tenant`: the Grafana tenant dashboard's panels for one tenant, with its firing alerts. */
export function TenantPage({ tenant }: { tenant: string }) {
  const search = useSearch();
  const scoped = useScopedTenant();
  if (scoped !== undefined && scoped !== tenant) {
    return (
      <main id="main" data-page="tenant">
        <h1 tabIndex={-1}>Tenant {tenant}</h1>
        <p class="refusal" role="alert" data-state="refused">
          <strong>Not allowed:</strong> this read token is scoped to tenant <a href={`/tenants/${encodeURIComponent(scoped)}`}>{scoped}</a>; it cannot read{' '}
          {tenant}.
        </p>
      </main>
    );
  }
  return (
    <main id="main" data-page="tenant">
      <h1 tabIndex={-1}>Tenant {tenant}</h1>
      <WithDashboard id="tenant">
        {(view) => {
          const tools = search.getAll('tool');
          const vars: Array<[string, string]> = [['tenant', tenant], ...tools.map((t): [string, string] => ['tool', t])];
          const since = search.get('since') ?? view.def.defaultSince;
          return (
            <>
              <Toolbar defaultSince={view.def.defaultSince} defaultRefresh={view.def.refresh ?? 'off'}>
                <VariableSelect dashboard="tenant" name="tool" label="Tool" defaultSince={view.def.defaultSince} depends={[['tenant', tenant]]} />
                <a
                  class="button"
                  href={`/calls${qs([
                    ['tenant', tenant],
                    ['since', since],
                  ])}`}
                >
                  Calls of {tenant}
                </a>
              </Toolbar>
              <FiringAlerts refreshMs={view.refreshMs} tenant={tenant} />
              <PanelGrid {...view} vars={vars} callsFilter={[['tenant', tenant]]} />
            </>
          );
        }}
      </WithDashboard>
    </main>
  );
}
