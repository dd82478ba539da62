{{/*
A hardened container securityContext, merged over the chart's values.
Usage: {{ include "platform-lib.containerSecurityContext" .Values.securityContext | nindent 12 }}
*/}}
{{- define "platform-lib.containerSecurityContext" -}}
{{- $ctx := dict "allowPrivilegeEscalation" false "readOnlyRootFilesystem" true "runAsNonRoot" true "capabilities" (dict "drop" (list "ALL")) -}}
{{- /* set, not merge: merge would let a default `true` win over an explicit `false` */ -}}
{{- range $key, $value := . }}
{{- $_ := set $ctx $key $value }}
{{- end }}
{{- toYaml $ctx -}}
{{- end }}

{{/*
A ServiceAccount document.
Usage: {{ include "platform-lib.serviceAccount" . }}
*/}}
{{- define "platform-lib.serviceAccount" -}}
{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "platform-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "platform-lib.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount | default false }}
{{- end }}
{{- end }}

{{/*
A PodDisruptionBudget document, when .Values.podDisruptionBudget.enabled.
*/}}
{{- define "platform-lib.podDisruptionBudget" -}}
{{- if .Values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "platform-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "platform-lib.labels" . | nindent 4 }}
spec:
  {{- if .Values.podDisruptionBudget.minAvailable }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "platform-lib.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
