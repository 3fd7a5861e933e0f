// The little of fengari (Lua 5.3 in JavaScript) and fengari-interop that the embedded store's Lua
// engine uses; neither package ships types.
declare module 'fengari' {
  export type LuaState = { readonly __luaState: unique symbol }
  const fengari: {
    lua: {
      LUA_REGISTRYINDEX: number
      LUA_OK: number
      lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number
      lua_rawgeti(L: LuaState, index: number, n: number): number
      lua_tojsstring(L: LuaState, index: number): string
      lua_type(L: LuaState, index: number): number
      lua_settop(L: LuaState, index: number): void
      lua_gettop(L: LuaState): number
      lua_newtable(L: LuaState): void
      lua_settable(L: LuaState, index: number): void
      lua_setglobal(L: LuaState, name: Uint8Array): void
      lua_pushjsfunction(L: LuaState, fn: (L: LuaState) => number): void
      lua_close(L: LuaState): void
    }
    lauxlib: {
      luaL_newstate(): LuaState
      luaL_loadstring(L: LuaState, source: Uint8Array): number
      luaL_ref(L: LuaState, table: number): number
      luaL_dostring(L: LuaState, source: Uint8Array): number
    }
    lualib: { luaL_openlibs(L: LuaState): void }
    to_luastring(text: string): Uint8Array
  }
  export default fengari
}

declare module 'fengari-interop' {
  import type { LuaState } from 'fengari'
  const interop: {
    luaopen_js(L: LuaState): number
    push(L: LuaState, value: unknown): void
    tojs(L: LuaState, index: number): unknown
  }
  export default interop
}
