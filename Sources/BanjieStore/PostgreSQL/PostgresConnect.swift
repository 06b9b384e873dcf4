import BanjieTLS
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

extension PostgresLocation {
  /// Opens a connection of this store named `name` (docs/ARCHITECTURE.md, "The PostgreSQL
  /// engine"): in the clear, or, with `tls`, over the system OpenSSL as banjie's own TLS is:
  /// PostgreSQL's SSLRequest first, then the TLS handshake with the server's certificate verified
  /// (`PostgresTLS`), and only then the startup message, which never travels in the clear.
  func connect(name: String, id: Int, logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<PostgresConnection> {
    let configuration = self.configuration(name: name)
    guard let tls = self.tls else {
      return PostgresConnection.connect(on: eventLoop, configuration: configuration, id: id, logger: logger)
    }
    let context: TLSContext
    do {
      context = try TLSContext(
        configuration: TLSConfiguration(
          role: .client, certificateChainFile: tls.certificateFile, privateKeyFile: tls.keyFile, trustRootsFile: tls.rootCertificateFile,
          applicationProtocols: [], requireClientCertificate: false))
    } catch {
      return eventLoop.makeFailedFuture(
        PostgresTLSError(description: "cannot load the TLS files for PostgreSQL (sslrootcert \(tls.rootCertificateFile)): \(error)"))
    }
    let location = self.description
    let serverHostname = tls.mode == .verifyFull ? self.host : nil
    return ClientBootstrap(group: eventLoop)
      .connectTimeout(configuration.options.connectTimeout)
      .connect(host: self.host, port: self.port)
      .flatMap { channel in
        let answer = channel.eventLoop.makePromise(of: Bool.self)
        do {
          try channel.pipeline.syncOperations.addHandler(SSLRequestHandler(answer: answer))
        } catch {
          answer.fail(error)
        }
        // A server that takes the connection but never answers: the channel is closed, which
        // fails the answer (SSLRequestHandler), within the connect timeout.
        let silence = channel.eventLoop.scheduleTask(in: configuration.options.connectTimeout) { channel.close(promise: nil) }
        answer.futureResult.whenComplete { _ in silence.cancel() }
        return answer.futureResult.flatMap { accepted -> EventLoopFuture<any Channel> in
          guard accepted else {
            return channel.eventLoop.makeFailedFuture(
              PostgresTLSError(description: "the server at \(location) does not speak TLS (its ssl setting is off)"))
          }
          let handshake = channel.eventLoop.makePromise(of: Void.self)
          do {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(try OpenSSLHandler(context: context, serverHostname: serverHostname), position: .first)
            try sync.addHandler(HandshakeWaiter(promise: handshake))
          } catch {
            handshake.fail(error)
          }
          return handshake.futureResult.map { channel }
        }
        .flatMapError { error in
          channel.close(promise: nil)
          return channel.eventLoop.makeFailedFuture(error)
        }
      }
      .flatMap { channel in
        var established = PostgresConnection.Configuration(
          establishedChannel: channel, username: self.username, password: self.password, database: self.database)
        established.options = configuration.options
        return PostgresConnection.connect(on: channel.eventLoop, configuration: established, id: id, logger: logger)
      }
  }
}

/// Why a TLS connection to PostgreSQL could not be made, in one line.
struct PostgresTLSError: Error, CustomStringConvertible {
  var description: String
}

/// PostgreSQL's SSLRequest (docs: "Frontend/Backend Protocol, SSL Session Encryption"): eight
/// bytes sent before anything else, answered by one byte, 'S' (go on with TLS) or 'N' (no TLS).
/// Removes itself once answered.
private final class SSLRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer

  private var answer: EventLoopPromise<Bool>?

  init(answer: EventLoopPromise<Bool>) { self.answer = answer }

  func handlerAdded(context: ChannelHandlerContext) {
    var request = context.channel.allocator.buffer(capacity: 8)
    request.writeInteger(Int32(8))
    request.writeInteger(Int32(80_877_103))
    context.writeAndFlush(NIOAny(request), promise: nil)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.complete(.failure(PostgresTLSError(description: "the connection ended before PostgreSQL answered the TLS request")))
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var buffer = Self.unwrapInboundIn(data)
    let byte = buffer.readInteger(as: UInt8.self)
    // The server waits for the client's TLS handshake after 'S': nothing else may have come.
    if byte == UInt8(ascii: "S"), buffer.readableBytes == 0 {
      self.complete(.success(true))
    } else if byte == UInt8(ascii: "N") {
      self.complete(.success(false))
    } else {
      self.complete(.failure(PostgresTLSError(description: "PostgreSQL answered the TLS request with something else than S or N")))
    }
    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.complete(.failure(PostgresTLSError(description: "the connection closed before PostgreSQL answered the TLS request")))
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    self.complete(.failure(error))
    context.fireErrorCaught(error)
  }

  private func complete(_ result: Result<Bool, any Error>) {
    guard let answer = self.answer else { return }
    self.answer = nil
    answer.completeWith(result)
  }
}

/// Waits for the TLS handshake under it to finish (or fail), then removes itself.
private final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer

  private var promise: EventLoopPromise<Void>?

  init(promise: EventLoopPromise<Void>) { self.promise = promise }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.complete(.failure(PostgresTLSError(description: "the TLS handshake with PostgreSQL did not finish")))
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? TLSEvent, case .handshakeCompleted = event {
      self.complete(.success(()))
      context.fireUserInboundEventTriggered(event)
      context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  func channelInactive(context: ChannelHandlerContext) {
    self.complete(.failure(PostgresTLSError(description: "PostgreSQL closed the connection during the TLS handshake")))
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    self.complete(.failure(PostgresTLSError(description: "TLS to PostgreSQL failed: \(error)")))
    context.fireErrorCaught(error)
  }

  private func complete(_ result: Result<Void, any Error>) {
    guard let promise = self.promise else { return }
    self.promise = nil
    promise.completeWith(result)
  }
}
