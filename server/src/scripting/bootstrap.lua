-- Trusted setup of the scripting sandbox (chunk "=sandbox"). It runs once per
-- Lua state with the full standard globals; scripts never see those: they
-- run with the environments built here, made of read-only proxies.
local P = ...
local real_setmetatable, real_getmetatable = setmetatable, getmetatable
local real_rawset, real_rawget, real_next = rawset, rawget, next
local real_type, real_error, real_tostring, real_select = type, error, tostring, select
local real_loadstring, real_setfenv, real_xpcall, real_unpack = loadstring, setfenv, xpcall, unpack
local s_byte, s_sub, s_find = string.byte, string.sub, string.find

-- proxy -> the table behind it (weak keys: proxies die with their tables)
local real_of = real_setmetatable({}, {__mode = 'k'})

local function ro_newindex()
  real_error('Attempt to modify a readonly table', 2)
end

local function protect(t)
  local p = {}
  real_of[p] = t
  real_setmetatable(p, {__index = t, __newindex = ro_newindex, __metatable = false})
  return p
end

local function copy(t)
  local c = {}
  for k, v in real_next, t do c[k] = v end
  return c
end

local function nonexistent(_, k)
  real_error("Script attempted to access nonexistent global variable '" .. real_tostring(k) .. "'", 2)
end

-- Iteration and raw access see through the proxies, writes never do.
local function s_next(t, k)
  local r = real_of[t]
  if r then return real_next(r, k) end
  return real_next(t, k)
end
local function s_pairs(t) return s_next, t, nil end
local function ipairs_iter(t, i)
  i = i + 1
  local v = t[i]
  if v ~= nil then return i, v end
end
local function s_ipairs(t) return ipairs_iter, t, 0 end
local function s_rawget(t, k)
  local r = real_of[t]
  if r then return real_rawget(r, k) end
  return real_rawget(t, k)
end
local function s_rawset(t, k, v)
  if real_of[t] then real_error('Attempt to modify a readonly table', 0) end
  return real_rawset(t, k, v)
end
local function s_setmetatable(t, mt)
  if real_of[t] then real_error('Attempt to modify a readonly table', 0) end
  return real_setmetatable(t, mt)
end

local string_p = protect(string)
local string_mt_proxy = protect({__index = string_p})
local function s_getmetatable(o)
  if real_type(o) == 'string' then return string_mt_proxy end
  return real_getmetatable(o)
end

-- loadstring refuses bytecode (it returns nothing, as Redis's does) and
-- gives the chunk the caller's sandboxed environment.
local function make_loadstring(env)
  return function(s, name)
    if real_type(s) == 'string' and s_byte(s, 1) == 27 then return end
    local f, err = real_loadstring(s, name)
    if f then real_setfenv(f, env) end
    return f, err
  end
end

-- Error tables as Redis builds them from "-CODE message" or "message".
local function error_table(s)
  local code, msg
  if s_sub(s, 1, 1) == '-' then
    local sp = s_find(s, ' ', 1, true)
    if sp then
      code, msg = s_sub(s, 2, sp - 1), s_sub(s, sp + 1)
    else
      code, msg = 'ERR', s_sub(s, 2)
    end
  else
    code, msg = 'ERR', s
  end
  msg = (msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', ''))
  return {err = code .. ' ' .. msg}
end
-- API functions that can fail are C closures made by P.make_raiser from
-- an inner function answering (true, value) or (false, error). As in
-- Redis 7.0, the error raised is the plain "CODE message" string (a pcall
-- in the script receives that string).
local R = P.make_raiser
local function fail(msg) return false, 'ERR ' .. msg end

local slot = P.slot

local call = R(function(...)
  local ok, v = slot.call(false, ...)
  if ok then return true, v end
  return false, v.err
end)
local function pcall_(...)
  local ok, v = slot.call(false, ...)
  return v
end
local function one_string(n, ...)
  local v = ...
  local t = real_type(v)
  return n == 1 and (t == 'string' or t == 'number')
end
-- Wrong arguments make these return an error table, not raise.
local function error_reply(...)
  if not one_string(real_select('#', ...), ...) then return {err = 'ERR wrong number or type of arguments'} end
  local s = real_tostring((...))
  if s_sub(s, 1, 1) ~= '-' then s = '-' .. s end
  return error_table(s)
end
local function status_reply(...)
  if not one_string(real_select('#', ...), ...) then return {err = 'ERR wrong number or type of arguments'} end
  return {ok = real_tostring((...))}
end
local sha1hex = R(function(...)
  if real_select('#', ...) ~= 1 then return fail('wrong number of arguments') end
  local v = ...
  local t = real_type(v)
  if t ~= 'string' and t ~= 'number' then v = '' end
  return true, P.sha1hex(real_tostring(v))
end)
local log = R(function(...)
  local n = real_select('#', ...)
  if n < 2 then return fail('redis.log() requires two arguments or more.') end
  local level = ...
  if real_type(level) ~= 'number' then return fail('First argument must be a number or redis.LOG_* constant.') end
  if level < 0 or level > 3 then return fail('Invalid debug level.') end
  local parts = {}
  for i = 2, n do
    local v = real_select(i, ...)
    local t = real_type(v)
    if t == 'string' or t == 'number' then parts[#parts + 1] = real_tostring(v) end
  end
  P.log(level, table.concat(parts, ' '))
  return true, nil
end)
local setresp = R(function(...)
  if real_select('#', ...) ~= 1 then return fail('redis.setresp() requires one argument.') end
  local v = ...
  if v ~= 2 and v ~= 3 then return fail('RESP version must be 2 or 3.') end
  P.setresp(v)
  return true, nil
end)
local set_repl = R(function(...)
  if real_select('#', ...) ~= 1 then return fail('redis.set_repl() requires one argument.') end
  local v = ...
  if real_type(v) ~= 'number' or v < 0 or v > 3 then
    return fail('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
  return true, nil
end)
local acl_check_cmd = R(function(...)
  if real_select('#', ...) < 1 then return fail('Please specify at least one argument for this redis lib call') end
  local ok, v = slot.call(true, ...)
  if ok then return true, v end
  return false, v.err
end)
local register_function = R(function(...)
  local ok, v = slot.register(...)
  if ok then return true, nil end
  return fail(v)
end)

local consts = {
  REDIS_VERSION = P.version, REDIS_VERSION_NUM = P.version_num,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
local redis_run = copy(consts)
redis_run.call = call
redis_run.pcall = pcall_
redis_run.error_reply = error_reply
redis_run.status_reply = status_reply
redis_run.sha1hex = sha1hex
redis_run.log = log
redis_run.setresp = setresp
redis_run.set_repl = set_repl
redis_run.replicate_commands = function() return true end
redis_run.breakpoint = function() return false end
redis_run.debug = function() end
redis_run.acl_check_cmd = acl_check_cmd
redis_run.REPL_NONE, redis_run.REPL_AOF, redis_run.REPL_SLAVE = 0, 1, 2
redis_run.REPL_REPLICA, redis_run.REPL_ALL = 2, 3
local redis_run_p = protect(redis_run)

local redis_load = copy(consts)
redis_load.register_function = register_function
redis_load.log = log
redis_load.setresp = setresp
real_setmetatable(redis_load, {__index = nonexistent})
local redis_load_p = protect(redis_load)

local base = {
  assert = assert, collectgarbage = collectgarbage, error = error, gcinfo = gcinfo,
  getmetatable = s_getmetatable, ipairs = s_ipairs, next = s_next, pairs = s_pairs,
  pcall = pcall, rawequal = rawequal, rawget = s_rawget, rawset = s_rawset,
  select = select, setmetatable = s_setmetatable, tonumber = tonumber,
  tostring = tostring, type = type, unpack = unpack, xpcall = xpcall,
  _VERSION = _VERSION,
  string = string_p, table = protect(table), math = protect(math),
  cjson = protect(P.cjson), bit = protect(P.bit), redis = redis_run_p,
}

local function make_env(globals_meta_index)
  local globals = copy(base)
  real_setmetatable(globals, {__index = nonexistent})
  local meta = {__index = globals_meta_index or globals, __newindex = ro_newindex, __metatable = false}
  local env = real_setmetatable({}, meta)
  real_of[env] = globals
  globals._G = env
  globals.loadstring = make_loadstring(env)
  return env, globals, meta
end

local eval_env, eval_globals = make_env()
local fn_env, fn_globals, fn_meta = make_env()
local fn_load_globals = real_setmetatable({redis = redis_load_p}, {__index = nonexistent})

-- Runs f(...) with the error handler that records where a script failed.
local handler = P.handler
local function runner(f, ...)
  local n = real_select('#', ...)
  local args = {...}
  return real_xpcall(function() return f(real_unpack(args, 1, n)) end, handler)
end

return {
  eval_env = eval_env, eval_globals = eval_globals,
  fn_env = fn_env, fn_globals = fn_globals, fn_meta = fn_meta, fn_load_globals = fn_load_globals,
  runner = runner,
}
