// Generated code lives in Generated/.
