/** Paths of Wharf's deployment artefacts and readers for the expressions inside them. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

export const repoRoot = resolve(import.meta.dirname, "../../..");
export const chartDir = join(repoRoot, "helm/wharf");
export const dashboardFile = join(repoRoot, "deploy/grafana/wharf-dashboard.json");
export const rulesFile = join(repoRoot, "deploy/prometheus/wharf-rules.yaml");

export interface Expression {
  /** Where it comes from, for failure messages: a panel title, a variable or an alert name. */
  where: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating?: { list: { name: string; type: string; query?: string | { query?: string } }[] };
}

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroups {
  groups: { name: string; rules: AlertRule[] }[];
}

export const readDashboard = (): Dashboard => JSON.parse(readFileSync(dashboardFile, "utf8"));
export const readRules = (): RuleGroups => parse(readFileSync(rulesFile, "utf8"));

/** Every PromQL expression of a dashboard: panel queries (rows included) and query variables. */
export function dashboardExpressions(dashboard: Dashboard): Expression[] {
  const out: Expression[] = [];
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) out.push({ where: `panel "${panel.title}"`, expr: target.expr });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== "query") continue;
    const query = typeof variable.query === "string" ? variable.query : (variable.query?.query ?? "");
    // Grafana's label_values(selector, label): only the selector is PromQL.
    const selector = /^\s*label_values\((.*),\s*[A-Za-z_]\w*\s*\)\s*$/s.exec(query)?.[1] ?? query;
    out.push({ where: `variable $${variable.name}`, expr: selector });
  }
  return out;
}

export function ruleExpressions(rules: RuleGroups): Expression[] {
  return rules.groups.flatMap((group) =>
    group.rules.map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr })),
  );
}
