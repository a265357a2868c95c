{{/*
The name of the release's objects: fullnameOverride, else
<release>-<nameOverride>, else <release>-apiserver.
*/}}
{{- define "certstatus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if .Values.nameOverride -}}
{{- printf "%s-%s" .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-apiserver" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The app.kubernetes.io/name label: certstatus unless nameOverride. */}}
{{- define "certstatus.name" -}}
{{- default "certstatus" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The ServiceAccount the server runs as (created or not). */}}
{{- define "certstatus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "certstatus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name the existing ServiceAccount to run as when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. The selector labels are the kustomize install's. */}}
{{- define "certstatus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "certstatus.name" . }}
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

{{/* A probe's timing fields; a zero initialDelaySeconds is left out (the API's default). */}}
{{- define "certstatus.probeTiming" -}}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- with .initialDelaySeconds }}
initialDelaySeconds: {{ . }}
{{- end }}
{{- end -}}

{{/*
The PrometheusRule's spec: files/certstatus.rules.yaml (generated, whatever
rules it holds) with metrics.prometheusRule's overrides applied. Only what the
schema can check is overridable (enabled, for, severity, labels), never an
expression; an override naming no shipped alert fails the rendering.
*/}}
{{- define "certstatus.rules" -}}
{{- $prom := .Values.metrics.prometheusRule -}}
{{- $file := .Files.Get "files/certstatus.rules.yaml" | fromYaml -}}
{{- if or (hasKey $file "Error") (not $file.groups) }}
{{- fail (printf "files/certstatus.rules.yaml holds no rule groups: %v" ($file.Error | default "empty")) }}
{{- end }}
{{- $overrides := $prom.overrides | default dict -}}
{{- $names := list -}}
{{- $groups := list -}}
{{- range $group := $file.groups }}
{{- $kept := list -}}
{{- range $rule := $group.rules }}
{{- $override := dict -}}
{{- if $rule.alert }}
{{- $names = append $names $rule.alert -}}
{{- $override = index $overrides $rule.alert | default dict -}}
{{- $severity := dict -}}
{{- with $override.severity }}{{ $severity = dict "severity" . }}{{ end }}
{{- $labels := merge (dict) ($override.labels | default dict) $severity ($rule.labels | default dict) ($prom.ruleLabels | default dict) -}}
{{- if $labels }}{{ $_ := set $rule "labels" $labels }}{{ end }}
{{- with $override.for }}{{ $_ := set $rule "for" . }}{{ end }}
{{- end }}
{{- if or (not (hasKey $override "enabled")) $override.enabled }}
{{- $kept = append $kept $rule -}}
{{- end }}
{{- end }}
{{- if $kept }}
{{- $groups = append $groups (set $group "rules" $kept) -}}
{{- end }}
{{- end }}
{{- range $name, $_ := $overrides }}
{{- if not (has $name $names) }}
{{- fail (printf "metrics.prometheusRule.overrides.%s: the shipped rules have no alert of that name (they have: %s)" $name (join ", " $names)) }}
{{- end }}
{{- end }}
{{- toYaml (dict "groups" $groups) }}
{{- end -}}
