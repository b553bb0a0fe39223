{{/* The namespace everything goes to: namespaceOverride, else the release's (as upstream's cilium.namespace). */}}
{{- define "cilium.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{/* KUBERNETES_SERVICE_HOST/PORT when k8sServiceHost is set (KubePrism on Talos), as upstream sets them. */}}
{{- define "cilium.apiserverEnv" -}}
{{- if .Values.k8sServiceHost }}
- name: KUBERNETES_SERVICE_HOST
  value: {{ .Values.k8sServiceHost | quote }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ .Values.k8sServicePort | toString | quote }}
{{- end }}
{{- end -}}

{{- define "cilium.labels" -}}
app.kubernetes.io/part-of: cilium
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
talosforge.io/sandbox-stand-in: "true"
{{- end -}}
