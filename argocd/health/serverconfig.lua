-- Argo CD health of a mlops.seldon.io ServerConfig: a pod template for Servers, with no status of
-- its own. Healthy once it exists, Degraded when it declares no container (no Server could start
-- from it). Written for Lua 5.1, the dialect of the VM inside Argo CD.
local hs = { status = "Healthy", message = "Pod template for Servers" }
local pod = obj.spec and obj.spec.podSpec
if pod == nil or pod.containers == nil or #pod.containers == 0 then
  hs.status = "Degraded"
  hs.message = "spec.podSpec declares no container: no Server can start from this ServerConfig"
end
return hs
