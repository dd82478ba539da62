{{ with .Values.nested }}{{ .deep.x | default "d" | upper }}{{ end }}
{{ if and .Values.t (not .Values.n) }}{{ printf "%d %s %v %q %5.2f" 1 "a" .Values.b "q" 3.14159 }}{{ end }}
{{ $d := dict "a" 1 "b" (list 1 2) }}{{ toYaml $d }}{{ tpl "{{ .Release.Name }}" . }}
