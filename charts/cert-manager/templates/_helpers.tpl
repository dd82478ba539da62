{{/*
Name of the chart, overridable.
*/}}
{{- define "cert-manager.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cert-manager.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "webhook.fullname" -}}
{{- printf "%s-webhook" (include "cert-manager.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cert-manager.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "cert-manager.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{/*
Labels for a component (controller, webhook) of the release.
Usage: {{ include "cert-manager.labels" (list . "controller") }}
*/}}
{{- define "cert-manager.labels" -}}
{{- $top := index . 0 -}}
{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ include "cert-manager.name" $top }}
app.kubernetes.io/instance: {{ $top.Release.Name }}
app.kubernetes.io/component: {{ $component }}
app.kubernetes.io/version: {{ $top.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $top.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $top.Chart.Name $top.Chart.Version }}
{{- end -}}

{{- define "cert-manager.selectorLabels" -}}
{{- $top := index . 0 -}}
app.kubernetes.io/name: {{ include "cert-manager.name" $top }}
app.kubernetes.io/instance: {{ $top.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/*
Image of a component: registry/repository:appVersion.
*/}}
{{- define "cert-manager.image" -}}
{{- $registry := .image.registry -}}
{{- with .global.imageRegistry }}{{ $registry = . }}{{ end -}}
{{ $registry }}/{{ .image.repository }}:{{ .tag }}
{{- end -}}

{{/*
The feature gates flag, sorted by name.
*/}}
{{- define "cert-manager.featureGates" -}}
{{- $gates := list -}}
{{- range $name := keys .Values.featureGates | sortAlpha -}}
{{- $gates = append $gates (printf "%s=%t" $name (index $.Values.featureGates $name)) -}}
{{- end -}}
{{- join "," $gates -}}
{{- end -}}
