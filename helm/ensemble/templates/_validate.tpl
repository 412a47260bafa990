{{/*
Checks of values that no schema can express; rendered (to nothing) by configmap.yaml.
*/}}
{{- define "ensemble.validate" -}}
{{- $v := .Values -}}
{{- if lt (int $v.replicaCount) 1 -}}
{{- fail "replicaCount must be at least 1 (the voting peers)" -}}
{{- end -}}
{{- if gt (int $v.replicaCount) 255 -}}
{{- fail "replicaCount: server ids must stay below 256 (session ids carry the server id in their top byte)" -}}
{{- end -}}
{{- if $v.observers.enabled -}}
{{- if lt (int $v.observers.replicaCount) 1 -}}
{{- fail "observers.replicaCount must be at least 1 when observers.enabled" -}}
{{- end -}}
{{- if lt (int $v.observers.sidBase) (int $v.replicaCount) -}}
{{- fail (printf "observers.sidBase (%d) must not be below replicaCount (%d): observer server ids would collide with the voters'" (int $v.observers.sidBase) (int $v.replicaCount)) -}}
{{- end -}}
{{- if gt (add (int $v.observers.sidBase) (int $v.observers.replicaCount)) 255 -}}
{{- fail "observers.sidBase + observers.replicaCount must stay below 256 (server ids are one byte in session ids)" -}}
{{- end -}}
{{- end -}}
{{- if not (has $v.peer.podAntiAffinityPreset (list "" "soft" "hard")) -}}
{{- fail "peer.podAntiAffinityPreset must be \"\", soft or hard" -}}
{{- end -}}
{{- if not (has $v.gateway.podAntiAffinityPreset (list "" "soft" "hard")) -}}
{{- fail "gateway.podAntiAffinityPreset must be \"\", soft or hard" -}}
{{- end -}}
{{- if and (not $v.gateway.autoscaling.enabled) (lt (int $v.gateway.replicaCount) 1) -}}
{{- fail "gateway.replicaCount must be at least 1" -}}
{{- end -}}
{{- if and $v.gateway.autoscaling.enabled (gt (int $v.gateway.autoscaling.minReplicas) (int $v.gateway.autoscaling.maxReplicas)) -}}
{{- fail "gateway.autoscaling.minReplicas must not exceed maxReplicas" -}}
{{- end -}}
{{- end -}}
