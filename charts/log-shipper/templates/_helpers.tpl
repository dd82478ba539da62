{{/*
The [OUTPUT] section, rendered from .Values.output.
*/}}
{{- define "log-shipper.output" -}}
[OUTPUT]
    Name          http
    Match         kube.*
    Host          {{ .Values.output.host }}
    Port          {{ .Values.output.port }}
    URI           /ingest/{{ tpl .Values.output.index . }}
    tls           {{ ternary "On" "Off" .Values.output.tls }}
    Header        Authorization Bearer ${LOG_TOKEN}
    Format        json_lines
{{- end -}}

{{/*
Extra [FILTER] sections: every key of an entry becomes a line.
*/}}
{{- define "log-shipper.filters" -}}
[FILTER]
    Name          kubernetes
    Match         kube.*
    Merge_Log     On
{{- range .Values.extraFilters }}
[FILTER]
{{- range $k, $v := . }}
    {{ printf "%-13s" (title $k) }} {{ $v }}
{{- end }}
{{- end }}
{{- end -}}
