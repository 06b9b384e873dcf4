import NIOCore

/// TLS on OpenSSL as a SwiftNIO handler: ciphertext below, plaintext `ByteBuffer`s above.
///
/// Add it first in a pipeline. It starts the handshake when the channel becomes active,
/// buffers writes until the handshake completes, fires `TLSEvent.handshakeCompleted` and
/// then passes application data both ways. Closing sends close_notify and waits at most
/// `closeNotifyTimeout` for the peer's before closing the socket.
///
/// Layout after swift-nio-ssl's NIOSSLHandler: a connection state machine, buffered writes
/// with a flush mark, plaintext delivered at `channelReadComplete`, one network write per flush.
public final class OpenSSLHandler: ChannelDuplexHandler, RemovableChannelHandler {
  public typealias InboundIn = ByteBuffer
  public typealias InboundOut = ByteBuffer
  public typealias OutboundIn = ByteBuffer
  public typealias OutboundOut = ByteBuffer

  private enum State {
    /// Added, channel not active yet.
    case idle
    case handshaking(Scheduled<Void>)
    case active
    /// Our close_notify is out; waiting for the peer's until the timer fires.
    case closing(Scheduled<Void>)
    case closed
  }

  private typealias PendingWrite = (data: ByteBuffer, promise: EventLoopPromise<Void>?)

  /// Small writes flushed together are copied into one buffer and encrypted with one
  /// `SSL_write`, so one flush makes one run of full records; larger ones are encrypted in place.
  private static let coalescingLimit = 64 * 1024
  private static let maximumWriteSize = 1 << 30

  private let connection: SSLConnection
  private let tlsContext: TLSContext
  private var state: State = .idle
  private var pendingWrites = CircularBuffer<PendingWrite>(initialCapacity: 8)
  /// How many of `pendingWrites`, from the front, have been flushed.
  private var flushedWriteCount = 0
  private var plaintext: ByteBuffer?
  private var closePromise: EventLoopPromise<Void>?
  private var isEncodingWrites = false

  /// Set once the handshake has completed.
  public private(set) var sessionInfo: TLSSessionInfo?

  /// - Parameter serverHostname: client only: the DNS name or IP literal the server
  ///   certificate must name. A name is also sent as SNI; an IP address never is. Without it
  ///   a client only checks that the server certificate chains to the trust roots.
  public init(context: TLSContext, serverHostname: String? = nil) throws {
    self.tlsContext = context
    self.connection = try SSLConnection(context: context, serverHostname: serverHostname)
  }

  // MARK: - Lifecycle

  public func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive {
      self.startHandshake(context: context)
    }
  }

  public func handlerRemoved(context: ChannelHandlerContext) {
    self.cancelTimer()
    self.state = .closed
    self.failPendingWrites(ChannelError.ioOnClosedChannel)
    self.closePromise?.fail(ChannelError.ioOnClosedChannel)
    self.closePromise = nil
    self.connection.free()
  }

  public func channelActive(context: ChannelHandlerContext) {
    context.fireChannelActive()
    self.startHandshake(context: context)
  }

  public func channelInactive(context: ChannelHandlerContext) {
    let previous = self.state
    self.cancelTimer()
    self.state = .closed
    // Whatever was decrypted before the connection went away is still delivered.
    self.deliverPlaintext(context: context)

    switch previous {
    case .handshaking:
      context.fireErrorCaught(
        TLSError(code: .handshakeFailed, message: "the connection closed during the TLS handshake")
      )
    case .active:
      // The peer left without close_notify (OpenSSL 3 would call it an unexpected EOF). The
      // framing above notices a truncated message; for TLS this is just the end.
      break
    case .closing:
      // We asked to close and the peer hung up: that is what we asked for.
      self.closePromise?.succeed(())
      self.closePromise = nil
    case .idle, .closed:
      break
    }
    self.closePromise?.fail(ChannelError.alreadyClosed)
    self.closePromise = nil
    self.failPendingWrites(ChannelError.ioOnClosedChannel)
    context.fireChannelInactive()
  }

  public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case .some(.inputClosed) = event as? ChannelEvent, case .handshaking = self.state {
      self.fail(context: context, TLSError(code: .handshakeFailed, message: "the peer closed its side during the TLS handshake"))
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  // MARK: - Inbound

  public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch self.state {
    case .handshaking:
      self.connection.consume(self.unwrapInboundIn(data))
      self.doHandshakeStep(context: context)
    case .active:
      self.connection.consume(self.unwrapInboundIn(data))
      self.decode(context: context)
      // A write that OpenSSL deferred may go now.
      self.encodeFlushedWrites(context: context)
    case .closing:
      // Data the peer sent before its close_notify is still delivered.
      self.connection.consume(self.unwrapInboundIn(data))
      self.decode(context: context)
    case .idle, .closed:
      break
    }
  }

  public func channelReadComplete(context: ChannelHandlerContext) {
    let delivered = self.deliverPlaintext(context: context)
    // Reading can make OpenSSL queue records of its own (a TLS 1.3 KeyUpdate answer).
    self.writeToNetwork(context: context)
    if !delivered {
      // Nothing reached the application, so with autoRead off nobody would ask for more bytes.
      switch self.state {
      case .handshaking, .active, .closing:
        if let autoRead = try? context.channel.syncOptions?.getOption(ChannelOptions.autoRead), !autoRead {
          context.read()
        }
      case .idle, .closed:
        break
      }
    }
  }

  // MARK: - Outbound

  public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch self.state {
    case .idle, .handshaking, .active:
      // SSL_write takes an Int32 length: split anything larger (the promise goes with the last part).
      var buffer = self.unwrapOutboundIn(data)
      while buffer.readableBytes > Self.maximumWriteSize, let part = buffer.readSlice(length: Self.maximumWriteSize) {
        self.pendingWrites.append((part, nil))
      }
      self.pendingWrites.append((buffer, promise))
    case .closing, .closed:
      promise?.fail(ChannelError.ioOnClosedChannel)
    }
  }

  public func flush(context: ChannelHandlerContext) {
    self.flushedWriteCount = self.pendingWrites.count
    if case .active = self.state {
      self.encodeFlushedWrites(context: context)
    }
  }

  public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
    guard mode == .all else {
      promise?.fail(ChannelError.operationUnsupported)
      return
    }
    switch self.state {
    case .idle, .handshaking:
      self.cancelTimer()
      self.state = .closed
      self.failPendingWrites(ChannelError.ioOnClosedChannel)
      context.close(promise: promise)
    case .active:
      self.closePromise = promise
      let timeout = self.tlsContext.configuration.closeNotifyTimeout
      self.state = .closing(
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
          self.closeNotifyTimedOut(context: context)
        }
      )
      // Flushed writes are already encrypted; unflushed ones are dropped, as a plain close would.
      self.failPendingWrites(ChannelError.ioOnClosedChannel)
      self.doShutdownStep(context: context)
    case .closing:
      if let promise {
        if let closePromise = self.closePromise {
          closePromise.futureResult.cascade(to: promise)
        } else {
          self.closePromise = promise
        }
      }
    case .closed:
      // A second close: the channel reports alreadyClosed, nothing here to undo.
      context.close(promise: promise)
    }
  }

  // MARK: - Handshake

  private func startHandshake(context: ChannelHandlerContext) {
    guard case .idle = self.state else { return }
    let timeout = self.tlsContext.configuration.handshakeTimeout
    self.state = .handshaking(
      context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
        self.handshakeTimedOut(context: context)
      }
    )
    self.doHandshakeStep(context: context)
  }

  private func doHandshakeStep(context: ChannelHandlerContext) {
    guard case .handshaking = self.state else { return }
    switch self.connection.doHandshake() {
    case .incomplete:
      self.writeToNetwork(context: context)
    case .complete:
      self.completeHandshake(context: context)
    case .failed(let error):
      self.fail(context: context, error)
    }
  }

  private func completeHandshake(context: ChannelHandlerContext) {
    self.cancelTimer()
    let info: TLSSessionInfo
    do {
      info = try self.connection.sessionInfo()
    } catch {
      self.fail(context: context, error)
      return
    }
    // The verify callback already refused revoked serials; this guards a list that was
    // changed while the handshake was in flight.
    if let serial = info.peerCertificate?.serialNumber, self.tlsContext.configuration.revocations?.isRevoked(serial) == true {
      self.fail(context: context, TLSError(code: .certificateRevoked, message: "peer certificate serial \(serial) is revoked"))
      return
    }
    self.state = .active
    self.sessionInfo = info
    context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(info))
    guard case .active = self.state else { return }

    // Application data that came with the last handshake flight is delivered now, not on the next read.
    self.decode(context: context)
    self.deliverPlaintext(context: context)
    // Writes made during the handshake go out together with our last flight.
    self.encodeFlushedWrites(context: context)
    self.writeToNetwork(context: context)
  }

  private func handshakeTimedOut(context: ChannelHandlerContext) {
    guard case .handshaking = self.state else { return }
    self.state = .closed
    let timeout = self.tlsContext.configuration.handshakeTimeout
    context.fireErrorCaught(
      TLSError(code: .handshakeTimeout, message: "the TLS handshake did not finish within \(timeout)")
    )
    self.failPendingWrites(ChannelError.ioOnClosedChannel)
    context.close(promise: nil)
  }

  // MARK: - Data

  /// Decrypts everything available into `plaintext`; handles close_notify and fatal errors.
  private func decode(context: ChannelHandlerContext) {
    var buffer = self.plaintext ?? context.channel.allocator.buffer(capacity: 16 * 1024)
    while true {
      switch self.connection.read(into: &buffer) {
      case .readSome:
        continue
      case .wantMore:
        self.plaintext = buffer
        return
      case .closeNotify:
        self.plaintext = buffer
        self.deliverPlaintext(context: context)
        self.peerSentCloseNotify(context: context)
        return
      case .failed(let error):
        self.plaintext = buffer
        self.fail(context: context, error)
        return
      }
    }
  }

  /// Fires decrypted bytes, if any, as one read. Returns whether it fired.
  @discardableResult
  private func deliverPlaintext(context: ChannelHandlerContext) -> Bool {
    guard let buffer = self.plaintext, buffer.readableBytes > 0 else { return false }
    self.plaintext = nil
    context.fireChannelRead(self.wrapInboundOut(buffer))
    context.fireChannelReadComplete()
    return true
  }

  /// Encrypts the flushed writes (as few `SSL_write`s as the coalescing limit allows) and
  /// sends the result as one write-and-flush whose promise completes them all.
  private func encodeFlushedWrites(context: ChannelHandlerContext) {
    // A promise completed below may write and flush again; the loop picks that up.
    guard !self.isEncodingWrites else { return }
    self.isEncodingWrites = true
    defer { self.isEncodingWrites = false }

    while self.flushedWriteCount > 0, case .active = self.state {
      var promises: [EventLoopPromise<Void>] = []
      var deferred = false
      encoding: while self.flushedWriteCount > 0 {
        let batchCount = self.nextBatchCount()
        let result: SSLConnection.StepResult
        if batchCount == 1 {
          let data = self.pendingWrites[self.pendingWrites.startIndex].data
          result = data.readableBytes == 0 ? .complete : data.withUnsafeReadableBytes { self.connection.write($0) }
        } else {
          var batch = context.channel.allocator.buffer(capacity: Self.coalescingLimit)
          var index = self.pendingWrites.startIndex
          for _ in 0..<batchCount {
            var data = self.pendingWrites[index].data
            batch.writeBuffer(&data)
            index = self.pendingWrites.index(after: index)
          }
          result = batch.readableBytes == 0 ? .complete : batch.withUnsafeReadableBytes { self.connection.write($0) }
        }
        switch result {
        case .complete:
          for _ in 0..<batchCount {
            if let promise = self.pendingWrites.removeFirst().promise { promises.append(promise) }
          }
          self.flushedWriteCount -= batchCount
        case .incomplete:
          // OpenSSL wants to read first; retried after the next channelRead.
          deferred = true
          break encoding
        case .failed(let error):
          for promise in promises { promise.fail(error) }
          self.fail(context: context, error)
          return
        }
      }
      // Completing these promises may write and flush more; the loop then goes round again.
      self.writeToNetwork(context: context, promise: Self.combine(promises, on: context.eventLoop))
      if deferred { break }
    }
  }

  /// How many flushed writes from the front go into the next `SSL_write`: one large write
  /// alone, or a run of small ones up to the coalescing limit.
  private func nextBatchCount() -> Int {
    var count = 0
    var bytes = 0
    var index = self.pendingWrites.startIndex
    while count < self.flushedWriteCount {
      let size = self.pendingWrites[index].data.readableBytes
      if size >= Self.coalescingLimit {
        return count == 0 ? 1 : count
      }
      count += 1
      bytes += size
      if bytes >= Self.coalescingLimit { break }
      index = self.pendingWrites.index(after: index)
    }
    return count
  }

  private static func combine(_ promises: [EventLoopPromise<Void>], on eventLoop: any EventLoop) -> EventLoopPromise<Void>? {
    switch promises.count {
    case 0:
      return nil
    case 1:
      return promises[0]
    default:
      let combined = eventLoop.makePromise(of: Void.self)
      combined.futureResult.whenComplete { result in
        for promise in promises { promise.completeWith(result) }
      }
      return combined
    }
  }

  /// Sends what OpenSSL queued for the network as one write-and-flush.
  private func writeToNetwork(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
    if let data = self.connection.drainOutput(allocator: context.channel.allocator) {
      context.writeAndFlush(self.wrapOutboundOut(data), promise: promise)
    } else if let promise {
      // Keeps the promise ordered behind earlier writes.
      context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
    }
  }

  // MARK: - Closing

  private func peerSentCloseNotify(context: ChannelHandlerContext) {
    switch self.state {
    case .active, .closing:
      // Answer with ours (a no-op if already sent) and close: no half-closed TLS here.
      self.cancelTimer()
      self.state = .closed
      _ = self.connection.shutdown()
      self.writeToNetwork(context: context)
      self.failPendingWrites(ChannelError.ioOnClosedChannel)
      let promise = self.closePromise
      self.closePromise = nil
      context.close(promise: promise)
    case .idle, .handshaking, .closed:
      break
    }
  }

  private func doShutdownStep(context: ChannelHandlerContext) {
    switch self.connection.shutdown() {
    case .sent:
      self.writeToNetwork(context: context)
    case .complete:
      self.finishClose(context: context)
    case .failed(let error):
      context.fireErrorCaught(error)
      self.finishClose(context: context)
    }
  }

  private func closeNotifyTimedOut(context: ChannelHandlerContext) {
    guard case .closing = self.state else { return }
    self.finishClose(context: context)
  }

  private func finishClose(context: ChannelHandlerContext) {
    self.cancelTimer()
    self.state = .closed
    self.writeToNetwork(context: context)
    let promise = self.closePromise
    self.closePromise = nil
    context.close(promise: promise)
  }

  /// Fires `error`, then closes the channel at once (no close_notify after a fatal error).
  private func fail(context: ChannelHandlerContext, _ error: any Error) {
    self.cancelTimer()
    self.state = .closed
    self.writeToNetwork(context: context)  // an alert OpenSSL queued tells the peer why
    self.deliverPlaintext(context: context)
    context.fireErrorCaught(error)
    self.failPendingWrites(error)
    let promise = self.closePromise
    self.closePromise = nil
    context.close(promise: promise)
  }

  private func cancelTimer() {
    switch self.state {
    case .handshaking(let timer), .closing(let timer):
      timer.cancel()
    case .idle, .active, .closed:
      break
    }
  }

  private func failPendingWrites(_ error: any Error) {
    self.flushedWriteCount = 0
    while let write = self.pendingWrites.popFirst() {
      write.promise?.fail(error)
    }
  }
}

@available(*, unavailable)
extension OpenSSLHandler: Sendable {}
