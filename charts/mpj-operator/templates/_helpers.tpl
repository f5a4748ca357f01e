{{/* The chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "mpj-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of the release's resources. */}}
{{- define "mpj-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mpj-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every resource of the chart carries. */}}
{{- define "mpj-operator.labels" -}}
helm.sh/chart: {{ include "mpj-operator.chart" . }}
{{ include "mpj-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mpj
{{- end }}

{{/* Labels that select the operator's pods; they never change across upgrades. */}}
{{- define "mpj-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mpj-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mpj-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mpj-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* registry/repository:tag, the tag defaulting to the chart's appVersion. Call with (list $ .image). */}}
{{- define "mpj-operator.image" -}}
{{- $root := index . 0 }}
{{- $image := index . 1 }}
{{- $repository := $image.repository }}
{{- with $root.Values.imageRegistry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}
{{- end }}
{{- printf "%s:%s" $repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}

{{/* "true" when leader election is on: more than one replica, or forced. */}}
{{- define "mpj-operator.leaderElection" -}}
{{- if or (gt (int .Values.replicaCount) 1) .Values.leaderElection.force }}true{{ else }}false{{ end }}
{{- end }}

{{- define "mpj-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* The permissions of operator-permissions.yaml with the given scope, as RBAC rules. */}}
{{- define "mpj-operator.rules" -}}
{{- $root := index . 0 }}
{{- $scope := index . 1 }}
{{- $permissions := ($root.Files.Get "operator-permissions.yaml" | fromYaml).permissions }}
{{- if not $permissions }}
{{- fail "operator-permissions.yaml is missing from the chart or has no permissions" }}
{{- end }}
{{- range $permissions }}
{{- if eq .scope $scope }}
- apiGroups: [{{ .apiGroup | quote }}]
  resources: [{{ .resource | quote }}]
  verbs: {{ toJson .verbs }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Secret holding the key job tokens are derived from: the user's, or the chart's. */}}
{{- define "mpj-operator.tokenKeySecret" -}}
{{- .Values.tokenKey.existingSecret | default (printf "%s-token-key" (include "mpj-operator.fullname" .)) -}}
{{- end }}
