/** Lazy part "websocket": WebSocketPair, WebSocket and their events, loaded on first use. */
export { WebSocket, WebSocketPair, isWebSocket, coupleToHost, hostSocketEvent, finishSockets, tunnelSocket, tunnelOf, outboundSocket } from "../websocket/websocket.ts";
export { MessageEvent, CloseEvent, ErrorEvent } from "../websocket/events.ts";
