-- Argo CD health of a mlops.seldon.io Model, Server, Pipeline or Experiment, read from the
-- conditions the scheduler writes (the same shape Seldon Core 2 writes):
--   Healthy      the Ready condition is True (or the model is scaled to zero on purpose);
--   Degraded     a false condition's reason says something failed, is invalid or is missing
--                (a reason ending in "Failed", "InvalidSpec", "ModelNotFound"): it needs a change;
--   Progressing  anything else: no status yet, an older generation observed, loading, waiting.
-- Written for Lua 5.1, the dialect of the VM inside Argo CD.
local hs = { status = "Progressing", message = "Waiting for the scheduler to report status" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.message = "Waiting for the scheduler to observe generation " .. generation
  return hs
end

local function needsChange(reason)
  if reason == nil then
    return false
  end
  return string.sub(reason, -6) == "Failed" or reason == "InvalidSpec" or reason == "ModelNotFound"
end

local ready = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  end
end
if ready == nil then
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ready.reason or "Ready"
  return hs
end
if ready.reason == "ModelScaledDown" then
  hs.status = "Healthy"
  hs.message = "Scaled to zero replicas"
  return hs
end
for _, c in ipairs(obj.status.conditions) do
  if c.status == "False" and needsChange(c.reason) then
    hs.status = "Degraded"
    hs.message = c.type .. ": " .. (c.message or c.reason)
    return hs
  end
end
hs.message = ready.message or ready.reason or "Not ready"
return hs
