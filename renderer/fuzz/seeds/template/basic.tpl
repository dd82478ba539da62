{{- define "x" -}}
name: {{ .Values.name | quote }}
{{- end }}
{{ include "x" . | nindent 2 }}
{{- range $i, $v := .Values.b }}
- {{ $i }}: {{ $v | toYaml }}
{{- else }}none{{ end }}
