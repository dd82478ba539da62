{{/*
Selector labels: stable for the lifetime of a release.
*/}}
{{- define "platform-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "platform-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels, plus the platform's team and tier labels and any extra
labels from .Values.commonLabels (sorted by toYaml).
*/}}
{{- define "platform-lib.labels" -}}
helm.sh/chart: {{ include "platform-lib.chart" . }}
{{ include "platform-lib.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: acme-platform
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Image reference: registry/repository:tag, or @digest when a digest is pinned.
The tag defaults to the chart's appVersion.
Usage: {{ include "platform-lib.image" (dict "image" .Values.image "global" .Values.global "chart" .Chart) }}
*/}}
{{- define "platform-lib.image" -}}
{{- $registry := .image.registry -}}
{{- if and .global .global.imageRegistry -}}
{{- $registry = .global.imageRegistry -}}
{{- end -}}
{{- $repo := required "image.repository is required" .image.repository -}}
{{- if .image.digest -}}
{{- printf "%s/%s@%s" $registry $repo .image.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry $repo (default .chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end }}
