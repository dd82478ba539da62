{{/*
The controller's name: the library's fullname plus "-controller".
*/}}
{{- define "ingress-nginx.controllerName" -}}
{{- printf "%s-controller" (include "platform-lib.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The controller's election ID, stable across upgrades.
*/}}
{{- define "ingress-nginx.electionID" -}}
{{- printf "%s-leader" (include "platform-lib.fullname" .) }}
{{- end }}

{{/*
Ingress API version for the IngressClass, chosen from the cluster's capabilities.
*/}}
{{- define "ingress-nginx.ingressClassApiVersion" -}}
{{- if .Capabilities.APIVersions.Has "networking.k8s.io/v1/IngressClass" -}}
networking.k8s.io/v1
{{- else if semverCompare ">=1.19-0" .Capabilities.KubeVersion.Version -}}
networking.k8s.io/v1
{{- else -}}
networking.k8s.io/v1beta1
{{- end -}}
{{- end }}
