{{/* Names and labels only: everything else lives in the template of the object it belongs to. */}}

{{- define "wharf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix; truncated so that "-internal" and "-redis" suffixes stay within 63 characters. */}}
{{- define "wharf.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "wharf.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wharf.commonLabels" -}}
helm.sh/chart: {{ include "wharf.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wharf
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- end }}

{{/* Gateway pods. The component label keeps the gateway's selector from matching the bundled Redis. */}}
{{- define "wharf.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wharf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "wharf.labels" -}}
{{ include "wharf.commonLabels" . }}
{{ include "wharf.selectorLabels" . }}
{{- end }}

{{- define "wharf.redis.fullname" -}}
{{- printf "%s-redis" (include "wharf.fullname" .) }}
{{- end }}

{{- define "wharf.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wharf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "wharf.redis.labels" -}}
{{ include "wharf.commonLabels" . }}
{{ include "wharf.redis.selectorLabels" . }}
{{- end }}

{{/* The headless Service's own labels: not the gateway component, so the ServiceMonitor skips it. */}}
{{- define "wharf.internal.labels" -}}
{{ include "wharf.commonLabels" . }}
app.kubernetes.io/name: {{ include "wharf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: internal
{{- end }}

{{- define "wharf.internalServiceName" -}}
{{- printf "%s-internal" (include "wharf.fullname" .) }}
{{- end }}

{{/* The Secret holding cluster-secret, SASL credentials, redis-url / redis-password. */}}
{{- define "wharf.secretName" -}}
{{- default (include "wharf.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "wharf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wharf.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
