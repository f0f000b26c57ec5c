/** Reads the generated dashboard JSON the way Grafana would: panels, their targets, variables, annotations, links. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DASHBOARDS } from '../../packages/collector/src/dashboards/index.js';

export interface Target {
  refId: string;
  rawSql: string;
  format: number;
  queryType: string;
  editorType: string;
  datasource: { type: string; uid: string };
}

export interface PanelView {
  title: string;
  type: string;
  targets: Target[];
  /** Data links attached to fields by name. */
  fieldLinks: Record<string, Array<{ title: string; url: string; internal?: { datasourceUid: string; query: Target } }>>;
}

export interface VariableView {
  name: string;
  type: string;
  /** The SQL of a query variable. */
  sql?: string;
  /** The values of a custom variable. */
  values?: string[];
  multi: boolean;
  includeAll: boolean;
}

export interface DashboardView {
  file: string;
  uid: string;
  title: string;
  panels: PanelView[];
  variables: VariableView[];
  annotations: Target[];
}

interface RawDashboard {
  uid: string;
  title: string;
  panels?: Array<{
    title: string;
    type: string;
    targets?: Target[];
    fieldConfig?: { overrides?: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: unknown }> }> };
  }>;
  templating?: { list?: Array<{ name: string; type: string; query?: unknown; multi?: boolean; includeAll?: boolean }> };
  annotations?: { list?: Array<{ target?: Target }> };
}

export async function loadDashboards(root: string): Promise<DashboardView[]> {
  const views: DashboardView[] = [];
  for (const { file } of DASHBOARDS) {
    const raw = JSON.parse(await readFile(join(root, 'dashboards', file), 'utf8')) as RawDashboard;
    views.push({
      file,
      uid: raw.uid,
      title: raw.title,
      panels: (raw.panels ?? []).map((p) => ({
        title: p.title,
        type: p.type,
        targets: p.targets ?? [],
        fieldLinks: Object.fromEntries(
          (p.fieldConfig?.overrides ?? [])
            .filter((o) => o.matcher.id === 'byName')
            .flatMap((o) => o.properties.filter((pr) => pr.id === 'links').map((pr) => [o.matcher.options, pr.value])),
        ) as PanelView['fieldLinks'],
      })),
      variables: (raw.templating?.list ?? []).map((v) => ({
        name: v.name,
        type: v.type,
        sql: v.type === 'query' ? ((v.query as { rawSql?: string })?.rawSql ?? (v.query as string)) : undefined,
        values: v.type === 'custom' ? String(v.query ?? '').split(',') : undefined,
        multi: v.multi ?? false,
        includeAll: v.includeAll ?? false,
      })),
      annotations: (raw.annotations?.list ?? []).flatMap((a) => (a.target ? [a.target] : [])),
    });
  }
  return views;
}
