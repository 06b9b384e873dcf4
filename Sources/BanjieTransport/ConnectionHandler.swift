import BanjieTLS
import BanjieWire
import GRPCCore
import Logging
import NIOCore

/// Checks the peer's 8-byte preface, then splits the stream into frames.
struct ConnectionFrameDecoder: ByteToMessageDecoder {
  typealias InboundOut = Frame
  var frames: FrameDecoder
  var prefaceSeen = false

  init(settings: ConnectionSettings) {
    self.frames = FrameDecoder(maxFrameSize: settings.maxFrameSize, maxHeaderSize: settings.maxHeaderSize)
  }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    if !self.prefaceSeen {
      let needed = FrameLayout.preface.count
      let available = min(buffer.readableBytes, needed)
      // Fail on the first wrong byte rather than waiting for all eight.
      guard let head = buffer.getBytes(at: buffer.readerIndex, length: available),
        head[...] == FrameLayout.preface[0..<available]
      else {
        throw WireError.connection(.protocolError, "connection preface is not BANJIE/1")
      }
      guard available == needed else { return .needMoreData }
      buffer.moveReaderIndex(forwardBy: needed)
      self.prefaceSeen = true
    }
    guard let frame = try self.frames.decodeFrame(from: &buffer) else { return .needMoreData }
    context.fireChannelRead(Self.wrapInboundOut(frame))
    return .continue
  }

  mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
    while self.prefaceSeen, let frame = try self.frames.decodeFrame(from: &buffer) {
      context.fireChannelRead(Self.wrapInboundOut(frame))
    }
    return .needMoreData
  }
}

/// The event-loop side of a connection: feeds frames to the `ConnectionCore`, runs the
/// SETTINGS and keepalive timers, and polices PING floods.
final class ConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = Frame

  private let core: ConnectionCore
  private let config: TransportConfig
  private var settingsReceived = false
  private var settingsTimer: Scheduled<Void>?
  private var keepaliveTimer: RepeatedTask?
  private var keepaliveDeadline: Scheduled<Void>?
  private var lastRead = NIODeadline.now()
  private var lastPingReceived: NIODeadline?
  private var dataSinceLastPing = true
  private var pingStrikes = 0
  private var started = false

  init(core: ConnectionCore) {
    self.core = core
    self.config = core.config
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { self.start(context: context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    self.start(context: context)
    context.fireChannelActive()
  }

  private func start(context: ChannelHandlerContext) {
    guard !self.started else { return }
    self.started = true
    self.core.start()
    let core = self.core
    let timeout = self.config.settingsTimeout
    self.settingsTimer = context.eventLoop.scheduleTask(in: timeout) {
      core.logger.info("peer sent no SETTINGS in time; closing", metadata: ["timeout": "\(timeout)"])
      core.fail(connectionError: .connection(.settingsTimeout, "no preface and SETTINGS within \(timeout)"))
    }
    if let interval = self.config.keepaliveInterval {
      let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
      self.keepaliveTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
        loopBound.value.keepaliveTick(interval: interval)
      }
    }
  }

  private func keepaliveTick(interval: TimeAmount) {
    guard self.keepaliveDeadline == nil, NIODeadline.now() - self.lastRead >= interval else { return }
    let core = self.core
    core.sendPing(opaque: UInt64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds))
    let timeout = self.config.keepaliveTimeout
    self.keepaliveDeadline = core.eventLoop.scheduleTask(in: timeout) {
      core.logger.info("keepalive PING not answered; closing", metadata: ["timeout": "\(timeout)"])
      core.fail(
        error: RPCError(code: .unavailable, message: "connection lost: keepalive not answered within \(timeout)"),
        goAway: (.noError, "keepalive timeout"))
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = Self.unwrapInboundIn(data)
    self.lastRead = .now()

    if !self.settingsReceived {
      guard case .settings(ack: false, _) = frame else {
        self.connectionError(.connection(.protocolError, "first frame after the preface must be SETTINGS"))
        return
      }
      self.settingsReceived = true
      self.settingsTimer?.cancel()
      self.settingsTimer = nil
    }

    switch frame {
    case .headers:
      self.dataSinceLastPing = true
      self.pingStrikes = 0
    case .message(_, let bytes, _, _) where bytes.readableBytes > 0:
      // An empty MESSAGE is no call activity: it cannot excuse a PING flood.
      self.dataSinceLastPing = true
      self.pingStrikes = 0
    case .ping(ack: false, _):
      if self.isPingFlood() {
        self.connectionError(.connection(.enhanceYourCalm, "too many PINGs"))
        return
      }
    case .ping(ack: true, _):
      self.keepaliveDeadline?.cancel()
      self.keepaliveDeadline = nil
    default:
      break
    }

    do {
      try self.core.receive(frame)
    } catch {
      self.connectionError(error)
    }
  }

  /// PINGs closer together than the minimum interval with no calls in between are strikes;
  /// any call activity clears them (a keepalive on a busy connection is never punished).
  private func isPingFlood() -> Bool {
    let now = NIODeadline.now()
    defer {
      self.lastPingReceived = now
      self.dataSinceLastPing = false
    }
    if let last = self.lastPingReceived, !self.dataSinceLastPing, now - last < self.config.minimumPingInterval {
      self.pingStrikes += 1
    }
    return self.pingStrikes > self.config.maxPingStrikes
  }

  private func connectionError(_ error: WireError) {
    self.core.logger.info("connection error; sending GOAWAY", metadata: ["reason": "\(error)"])
    self.core.lastError.withLock { $0 = "\(error)" }
    self.core.fail(connectionError: error)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? TLSEvent, case .handshakeCompleted(let info) = event {
      self.core.session.withLock { $0 = info }
      let address = context.channel.remoteAddress.map { "\($0)" } ?? "unknown"
      self.core.peer.withLock { $0 = BanjiePeer(session: info, remoteAddress: address) }
    }
    context.fireUserInboundEventTriggered(event)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if let wire = error as? WireError {
      self.connectionError(wire)
      return
    }
    self.core.lastError.withLock { $0 = "\(error)" }
    if error is TLSError {
      // A refused handshake (bad, revoked or zero-serial certificate, wrong ALPN) is worth a line.
      self.core.logger.info("TLS failed; connection closed", metadata: ["error": "\(error)"])
    } else {
      self.core.logger.debug("connection closed on error", metadata: ["error": "\(error)"])
    }
    context.close(promise: nil)
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    self.core.writabilityChanged(isWritable: context.channel.isWritable)
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.settingsTimer?.cancel()
    self.keepaliveTimer?.cancel()
    self.keepaliveDeadline?.cancel()
    let reason = self.core.lastError.withLock { $0 }
    self.core.closed(error: RPCError(code: .unavailable, message: reason.map { "connection closed: \($0)" } ?? "connection closed"))
    context.fireChannelInactive()
  }
}

extension ConnectionCore {
  func sendPing(opaque: UInt64) {
    self.enqueueControl(.ping(ack: false, opaque: opaque))
  }
}
