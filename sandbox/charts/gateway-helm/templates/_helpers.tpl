{{- define "eg.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "eg.selector" -}}
control-plane: envoy-gateway
app.kubernetes.io/name: gateway-helm
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "eg.labels" -}}
{{ include "eg.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
talosforge.io/sandbox-stand-in: "true"
{{- end -}}
