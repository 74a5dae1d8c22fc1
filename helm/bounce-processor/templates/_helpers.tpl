{{/*
Chart name, truncated to 63 characters (DNS label limit).
*/}}
{{- define "bounce-processor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: release name plus chart name, unless the release name already
contains the chart name. Truncated to 63 characters.
*/}}
{{- define "bounce-processor.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "bounce-processor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Namespace of every namespaced object (namespaceOverride for umbrella charts).
*/}}
{{- define "bounce-processor.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of a release (Deployment selectors are immutable).
*/}}
{{- define "bounce-processor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bounce-processor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels (helm/helm-www docs/chart_best_practices/labels.md).
*/}}
{{- define "bounce-processor.labels" -}}
helm.sh/chart: {{ include "bounce-processor.chart" . }}
{{ include "bounce-processor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bounce-processor
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Service account name.
*/}}
{{- define "bounce-processor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bounce-processor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Container image reference: repository:tag, or repository@digest when a digest is given.
*/}}
{{- define "bounce-processor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap holding the site policy file, empty when there is none.
*/}}
{{- define "bounce-processor.policyConfigMap" -}}
{{- if .Values.policy.existingConfigMap }}
{{- .Values.policy.existingConfigMap }}
{{- else if .Values.policy.content }}
{{- printf "%s-policy" (include "bounce-processor.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The Prometheus `job` label the alert rules select: what the ServiceMonitor sets through its
jobLabel (app.kubernetes.io/name of the Service), unless prometheusRule.job says otherwise.
*/}}
{{- define "bounce-processor.jobName" -}}
{{- .Values.prometheusRule.job | default (include "bounce-processor.name" .) }}
{{- end }}

{{/*
Cross-field checks that a JSON schema cannot express; rendering fails with a clear message.
*/}}
{{- define "bounce-processor.validate" -}}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled are exclusive: KEDA creates its own HorizontalPodAutoscaler" }}
{{- end }}
{{- $partitions := int .Values.kafka.inputPartitions }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicaCount) $partitions) }}
{{- fail (printf "keda.maxReplicaCount (%d) exceeds kafka.inputPartitions (%d): consumers beyond the partition count stay idle" (int .Values.keda.maxReplicaCount) $partitions) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- fail (printf "autoscaling.maxReplicas (%d) exceeds kafka.inputPartitions (%d): consumers beyond the partition count stay idle" (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- if gt (int .Values.replicaCount) $partitions }}
{{- fail (printf "replicaCount (%d) exceeds kafka.inputPartitions (%d): consumers beyond the partition count stay idle" (int .Values.replicaCount) $partitions) }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.processor.shutdownGraceSeconds) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than processor.shutdownGraceSeconds (%d) so the drain finishes before SIGKILL" (int .Values.terminationGracePeriodSeconds) (int .Values.processor.shutdownGraceSeconds)) }}
{{- end }}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.mechanism is set but kafka.sasl.existingSecret is empty: name the Secret that holds the SASL username and password" }}
{{- end }}
{{- if and .Values.policy.content .Values.policy.existingConfigMap }}
{{- fail "policy.content and policy.existingConfigMap are exclusive" }}
{{- end }}
{{- end }}
