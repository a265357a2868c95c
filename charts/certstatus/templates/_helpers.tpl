{{/* The name of the release's objects: <release>-apiserver unless overridden. */}}
{{- define "certstatus.fullname" -}}
{{- default (printf "%s-apiserver" .Release.Name) .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. The selector labels are the kustomize install's. */}}
{{- define "certstatus.selectorLabels" -}}
app.kubernetes.io/name: certstatus
app.kubernetes.io/component: apiserver
{{- end -}}

{{- define "certstatus.labels" -}}
{{ include "certstatus.selectorLabels" . }}
{{ include "certstatus.releaseLabels" . }}
{{- end -}}

{{/* What Helm adds to the kustomize install's labels. */}}
{{- define "certstatus.releaseLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The Secret holding the serving pair (both modes). */}}
{{- define "certstatus.servingSecret" -}}
{{ include "certstatus.fullname" . }}-serving-cert
{{- end -}}

{{/* The Secret holding the CA that signs the serving pair (both modes, unless certManager.issuerRef names another issuer). */}}
{{- define "certstatus.servingCASecret" -}}
{{ include "certstatus.fullname" . }}-serving-ca
{{- end -}}

{{/* The ServiceAccount the ServiceMonitor's scrapes authenticate as. */}}
{{- define "certstatus.scraper" -}}
{{ include "certstatus.fullname" . }}-scraper
{{- end -}}

{{/* The DNS names the aggregator checks the serving certificate against. */}}
{{- define "certstatus.serviceDNSNames" -}}
{{- $svc := include "certstatus.fullname" . -}}
{{- list (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) | toJson -}}
{{- end -}}

{{- define "certstatus.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/*
The RBAC rules of the usedBy kinds in .Values.usedBy.
*/}}
{{- define "certstatus.usedByRules" -}}
{{- $kinds := .Values.usedBy -}}
{{- range $kinds }}
{{- if not (has . (list "Ingress" "Gateway" "Pod")) }}
{{- fail (printf "usedBy: unknown kind %q (supported: Ingress, Gateway, Pod)" .) }}
{{- end }}
{{- end }}
{{- if has "Ingress" $kinds }}
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- if has "Gateway" $kinds }}
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["gateways", "listenersets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["networking.istio.io"]
  resources: ["gateways"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- if has "Pod" $kinds }}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end }}
