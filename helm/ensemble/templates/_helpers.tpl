{{/*
Names.
*/}}
{{- define "ensemble.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The full name: at most 40 characters, so that "<fullname>-observer-headless" style
names and pod host names stay within Kubernetes' 63-character limits.
*/}}
{{- define "ensemble.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ensemble.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ensemble.headlessName" -}}
{{- printf "%s-headless" (include "ensemble.fullname" .) -}}
{{- end -}}

{{- define "ensemble.gatewayName" -}}
{{- printf "%s-gateway" (include "ensemble.fullname" .) -}}
{{- end -}}

{{- define "ensemble.observerName" -}}
{{- printf "%s-observer" (include "ensemble.fullname" .) -}}
{{- end -}}

{{- define "ensemble.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ensemble.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ensemble.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-auth" (include "ensemble.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "ensemble.clientTlsSecret" -}}
{{- required "tls.client.existingSecret: the name of a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) is required when tls.client.enabled" .Values.tls.client.existingSecret -}}
{{- end -}}

{{- define "ensemble.quorumTlsSecret" -}}
{{- required "tls.quorum.existingSecret: the name of a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) is required when tls.quorum.enabled" .Values.tls.quorum.existingSecret -}}
{{- end -}}

{{/*
Labels. selectorLabels takes (dict "root" $ "component" "peer").
*/}}
{{- define "ensemble.labels" -}}
helm.sh/chart: {{ include "ensemble.chart" . }}
app.kubernetes.io/name: {{ include "ensemble.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ensemble
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "ensemble.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ensemble.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ensemble.annotations" -}}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The image of one process: (dict "root" $ "process" "storage").
*/}}
{{- define "ensemble.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s-%s" $img.repositoryPrefix .process -}}
{{- if $img.registry -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo -}}
{{- end -}}
{{- $digest := index $img.digests .process -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/*
Peer host names, as the headless Service publishes them:
<statefulset>-<ordinal>.<headless>.<namespace>.svc.<clusterDomain>.
*/}}
{{- define "ensemble.peerDomain" -}}
{{- printf "%s.%s.svc.%s" (include "ensemble.headlessName" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/*
The quorum: one server.N line per voter (sid = ordinal + 1) and per observer
(sid = observers.sidBase + ordinal + 1).
*/}}
{{- define "ensemble.serverLines" -}}
{{- $domain := include "ensemble.peerDomain" . -}}
{{- $full := include "ensemble.fullname" . -}}
{{- $obs := include "ensemble.observerName" . -}}
{{- range $i := until (int .Values.replicaCount) }}
server.{{ add $i 1 }}={{ $full }}-{{ $i }}.{{ $domain }}:{{ $.Values.ports.quorum }}:{{ $.Values.ports.election }}
{{- end }}
{{- if .Values.observers.enabled }}
{{- range $i := until (int .Values.observers.replicaCount) }}
server.{{ add $i 1 (int $.Values.observers.sidBase) }}={{ $obs }}-{{ $i }}.{{ $domain }}:{{ $.Values.ports.quorum }}:{{ $.Values.ports.election }}:observer
{{- end }}
{{- end }}
{{- end -}}

{{/*
Every peer's host name, space-separated: the gateways' possible homes.
*/}}
{{- define "ensemble.peerHosts" -}}
{{- $domain := include "ensemble.peerDomain" . -}}
{{- $hosts := list -}}
{{- range $i := until (int .Values.replicaCount) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s" (include "ensemble.fullname" $) $i $domain) -}}
{{- end -}}
{{- if .Values.observers.enabled -}}
{{- range $i := until (int .Values.observers.replicaCount) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s" (include "ensemble.observerName" $) $i $domain) -}}
{{- end -}}
{{- end -}}
{{- join " " $hosts -}}
{{- end -}}

{{/*
Settings every process reads.
*/}}
{{- define "ensemble.commonConfig" -}}
tickTime={{ int .Values.tickTime }}
initLimit={{ int .Values.initLimit }}
syncLimit={{ int .Values.syncLimit }}
{{- if .Values.minSessionTimeout }}
minSessionTimeout={{ int .Values.minSessionTimeout }}
{{- end }}
{{- if .Values.maxSessionTimeout }}
maxSessionTimeout={{ int .Values.maxSessionTimeout }}
{{- end }}
maxClientCnxns={{ int .Values.maxClientCnxns }}
4lw.commands.whitelist={{ .Values.fourlwCommandsWhitelist }}
jute.maxbuffer={{ int .Values.juteMaxBuffer }}
ensemble.logLevel={{ .Values.logLevel }}
{{- if and .Values.observers.enabled (eq (int .Values.replicaCount) 1) }}
# One voter with observers: a replicated ensemble of one.
standaloneEnabled=false
{{- end }}
{{- range $k, $v := .Values.extraConfig }}
{{ $k }}={{ $v }}
{{- end }}
{{ include "ensemble.serverLines" . | trim }}
{{- end -}}

{{/*
maxUnavailable of the peers' PodDisruptionBudget: floor((voters - 1) / 2).
*/}}
{{- define "ensemble.pdbMaxUnavailable" -}}
{{- if ne (toString .Values.podDisruptionBudget.maxUnavailable) "" -}}
{{- int .Values.podDisruptionBudget.maxUnavailable -}}
{{- else -}}
{{- div (sub (int .Values.replicaCount) 1) 2 -}}
{{- end -}}
{{- end -}}

{{/*
Pod affinity: the given affinity, or an anti-affinity preset.
(dict "root" $ "component" "peer" "values" .Values.peer)
*/}}
{{- define "ensemble.affinity" -}}
{{- if .values.affinity -}}
{{- toYaml .values.affinity -}}
{{- else if eq .values.podAntiAffinityPreset "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: {{ .values.antiAffinityTopologyKey }}
      labelSelector:
        matchLabels:
          {{- include "ensemble.selectorLabels" (dict "root" .root "component" .component) | nindent 10 }}
{{- else if eq .values.podAntiAffinityPreset "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: {{ .values.antiAffinityTopologyKey }}
        labelSelector:
          matchLabels:
            {{- include "ensemble.selectorLabels" (dict "root" .root "component" .component) | nindent 12 }}
{{- end -}}
{{- end -}}

{{/*
A native gRPC probe (grpc.health.v1) on a port: (dict "probe" .Values.peer.livenessProbe "port" 2890).
*/}}
{{- define "ensemble.grpcProbe" -}}
grpc:
  port: {{ int .port }}
periodSeconds: {{ int .probe.periodSeconds }}
timeoutSeconds: {{ int .probe.timeoutSeconds }}
failureThreshold: {{ int .probe.failureThreshold }}
{{- with .probe.initialDelaySeconds }}
initialDelaySeconds: {{ int . }}
{{- end }}
{{- end -}}

{{/*
The probes of one container: (dict "values" .Values.peer "port" 2890).
*/}}
{{- define "ensemble.probes" -}}
{{- if and .values.startupProbe .values.startupProbe.enabled }}
startupProbe:
  {{- include "ensemble.grpcProbe" (dict "probe" .values.startupProbe "port" .port) | nindent 2 }}
{{- end }}
{{- if .values.livenessProbe.enabled }}
livenessProbe:
  {{- include "ensemble.grpcProbe" (dict "probe" .values.livenessProbe "port" .port) | nindent 2 }}
{{- end }}
{{- if .values.readinessProbe.enabled }}
readinessProbe:
  {{- include "ensemble.grpcProbe" (dict "probe" .values.readinessProbe "port" .port) | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "ensemble.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}
