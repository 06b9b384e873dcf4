import ArgumentParser
import BanjieConfig
import BanjieCore
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore
import NIOCore
import Synchronization

/// How to reach banjied and who we are: flags, then the profile, then the environment.
struct ConnectionOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp(t("connection.help.server")))
  var server: String?

  @Option(name: .long, help: ArgumentHelp(t("connection.help.ca")))
  var ca: String?

  @Option(name: .long, help: ArgumentHelp(t("connection.help.cert")))
  var cert: String?

  @Option(name: .long, help: ArgumentHelp(t("connection.help.key")))
  var key: String?

  @Option(name: .long, help: ArgumentHelp(t("connection.help.serverName")))
  var serverName: String?

  @Option(name: .long, help: ArgumentHelp(t("connection.help.profile")))
  var profile: String?

  @Option(name: .long, help: ArgumentHelp(t("connection.help.timeout")))
  var timeout: Double = 30

  struct Resolved {
    /// The server this attempt talks to: one of `servers`.
    var host: String
    var port: Int
    var serverName: String?
    var ca: String
    var cert: String
    var key: String
    /// Every server given, in the order they are tried (docs/OPERATIONS.md, "Several server addresses").
    var servers: [Endpoint] = []
  }

  /// One `host:port` of the server list.
  struct Endpoint: Equatable, Sendable {
    var host: String
    var port: Int
    /// As the user would write it back: `host:port`, `[v6]:port`.
    var text: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// `host:port`, or a comma-separated list of them (`a:7443,b:7443`).
    static func list(_ text: String) throws -> [Endpoint] {
      let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
      return try entries.map { entry in
        guard let colon = entry.lastIndex(of: ":"), let port = Int(entry[entry.index(after: colon)...]), (1...65535).contains(port)
        else { throw ValidationError(t("connection.error.server", entry)) }
        var host = String(entry[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError(t("connection.error.server", entry)) }
        return Endpoint(host: host, port: port)
      }
    }
  }

  /// A profile's file: a path, or a NAME under ~/.config/banjie/NAME.profile.
  static func profilePath(_ profile: String) -> String {
    profile.contains("/") ? profile : (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.config/banjie/\(profile).profile"
  }

  /// The `lang` key of a profile, if it is readable and has one (for Language.resolve).
  static func profileLanguage(_ profile: String?) -> String? {
    guard let profile, let text = try? String(contentsOfFile: Self.profilePath(profile), encoding: .utf8),
      let file = try? ConfigurationFile(parsing: text), case .string(let value)? = file.values["lang"]
    else { return nil }
    return value
  }

  func resolve() throws -> Resolved {
    let env = ProcessInfo.processInfo.environment
    var profileValues: [String: String] = [:]
    if let profile = self.profile ?? env["BANJIE_PROFILE"] {
      let path = Self.profilePath(profile)
      guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw ValidationError(t("connection.error.profile", path))
      }
      let file = try ConfigurationFile(parsing: text)
      for (key, value) in file.values {
        if case .string(let s) = value { profileValues[key] = s }
      }
    }
    func pick(_ flag: String?, _ profileKey: String, _ envKey: String) -> String? {
      flag ?? profileValues[profileKey] ?? env[envKey]
    }
    let servers = try Endpoint.list(pick(self.server, "server", "BANJIE_SERVER") ?? "127.0.0.1:7443")
    guard let first = servers.first else { throw ValidationError(t("connection.error.server", "")) }
    guard let ca = pick(self.ca, "ca", "BANJIE_CA") else {
      throw ValidationError(t("connection.error.noCA"))
    }
    guard let cert = pick(self.cert, "cert", "BANJIE_CERT"), let key = pick(self.key, "key", "BANJIE_KEY") else {
      throw ValidationError(t("connection.error.noCert"))
    }
    return Resolved(
      host: first.host, port: first.port, serverName: self.serverName ?? profileValues["server_name"], ca: ca, cert: cert, key: key,
      servers: servers)
  }

  var callOptions: CallOptions {
    var options = CallOptions.defaults
    options.timeout = .milliseconds(Int64(self.timeout * 1000))
    return options
  }

  /// Runs `body` with a connected client. An `RPCError` it throws reaches `Banjie.main`, which
  /// turns it into a `CLIError` with the documented exit code.
  ///
  /// With several servers (`--server a:7443,b:7443`), a server that cannot be reached, or whose
  /// connection is lost before the answer came (UNAVAILABLE), is said on one line of standard
  /// error and `body` runs again against the next one, its mutations with the same idempotency
  /// keys (IdempotencyKeys): a mutation the lost server had already committed is answered from
  /// its record instead of being done twice. A refused certificate is not tried elsewhere.
  func withClient<R: Sendable>(_ body: (GRPCClient<BanjieClientTransport>, BanjieClientTransport, Resolved) async throws -> R) async throws
    -> R
  {
    let resolved = try self.resolve()
    let servers = resolved.servers.isEmpty ? [Endpoint(host: resolved.host, port: resolved.port)] : resolved.servers
    return try await Self.failover(servers) { server in
      var attempt = resolved
      attempt.host = server.host
      attempt.port = server.port
      return try await self.withClient(on: attempt, body)
    }
  }

  /// Runs `attempt` against each server in turn until one answers: the next is tried only when
  /// an attempt failed with a `CLIError` marked `failover` (unreachable, connection lost), and
  /// then with the idempotency keys of this call given again. `say` reports each move (standard error).
  static func failover<R>(
    _ servers: [Endpoint], say: (String) -> Void = Reconnect.say, _ attempt: (Endpoint) async throws -> R
  ) async throws -> R {
    // The keys this call's mutations take start here; an earlier call's keep theirs.
    let mark = IdempotencyKeys.position
    for (index, server) in servers.enumerated() {
      if index > 0 { IdempotencyKeys.rewind(to: mark) }
      do {
        return try await attempt(server)
      } catch let error as CLIError where error.failover {
        guard index + 1 < servers.count else {
          guard servers.count > 1 else { throw error }
          throw CLIError(exitCode: 69, message: t("connection.unreachableAll", servers.map(\.text).joined(separator: ", ")))
        }
        say(t("connection.failover", server.text, servers[index + 1].text))
      }
    }
    throw CLIError(exitCode: 64, message: t("connection.error.server", ""))
  }

  /// One attempt against `resolved.host:resolved.port`.
  private func withClient<R: Sendable>(
    on resolved: Resolved, _ body: (GRPCClient<BanjieClientTransport>, BanjieClientTransport, Resolved) async throws -> R
  ) async throws -> R {
    // An expired certificate is said plainly before any connection (the server would refuse it).
    if let certificate = try? PeerCertificate(pemFile: resolved.cert) {
      let now = Date()
      if certificate.notAfter < now {
        throw CLIError(exitCode: 77, message: t("connection.certExpired", resolved.cert, HumanText.time(certificate.notAfter)))
      }
      if certificate.notBefore > now {
        throw CLIError(exitCode: 77, message: t("connection.certNotYetValid", resolved.cert, HumanText.time(certificate.notBefore)))
      }
    }
    let tls: TLSContext
    do {
      tls = try TLSContext(
        configuration: .client(certificateChainFile: resolved.cert, privateKeyFile: resolved.key, trustRootsFile: resolved.ca))
    } catch {
      throw CLIError(exitCode: 64, message: t("connection.error.certFiles", "\(error)"))
    }
    var config = BanjieClientTransport.Config(host: resolved.host, port: resolved.port, tls: tls)
    config.serverName = resolved.serverName
    if resolved.servers.count > 1 {
      // A server that hangs (accepts the connection, never finishes the handshake) is given up
      // within half the call's timeout, so that the next one of the list is still tried.
      let half = TimeAmount.milliseconds(Int64(self.timeout * 500))
      config.connectTimeout = min(config.connectTimeout, half)
      config.transport.settingsTimeout = min(config.transport.settingsTimeout, half)
    }
    let transport = BanjieClientTransport(config: config)
    do {
      return try await withGRPCClient(transport: transport, interceptors: [LanguageInterceptor()]) { client in
        try await body(client, transport, resolved)
      }
    } catch let error as RPCError where error.code == .unavailable {
      var failure = CLIError(unavailable: error, server: Endpoint(host: resolved.host, port: resolved.port).text)
      // Unreachable, or lost before the answer: another server may answer it.
      failure.failover = failure.exitCode == 69
      throw failure
    }
  }
}

/// The idempotency keys of this invocation's mutations, made on first use. When the CLI moves to
/// the next server of its list, `rewind(to:)` hands out the keys of that call again in the same
/// order, so a mutation repeated there is the same request (docs/PROTOCOL.md, the
/// `idempotency-key` header).
enum IdempotencyKeys {
  private static let state = Mutex<(issued: [String], next: Int)>(([], 0))

  static func next() -> String {
    Self.state.withLock { state in
      defer { state.next += 1 }
      if state.next < state.issued.count { return state.issued[state.next] }
      let key = UUID().uuidString.lowercased()
      state.issued.append(key)
      return key
    }
  }

  /// Where the next key comes from: a call notes it before its first attempt.
  static var position: Int { Self.state.withLock { $0.next } }

  /// From now on, `next()` gives again the keys issued from `position` on.
  static func rewind(to position: Int) { Self.state.withLock { $0.next = min(max(0, position), $0.issued.count) } }
}

/// Tells the server the user's language (`banjie-lang` metadata, docs/OPERATIONS.md), so that its
/// error messages come back in Chinese or English as the rest of the CLI's output.
struct LanguageInterceptor: ClientInterceptor {
  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingClientRequest<Input>, context: ClientContext,
    next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
  ) async throws -> StreamingClientResponse<Output> {
    var request = request
    request.metadata.replaceOrAddString(Language.current.rawValue, forKey: "banjie-lang")
    return try await next(request, context)
  }
}

/// A failure with the exit code the help text documents. Commands throw it (or an `RPCError`,
/// which `init(rpc:)` converts); `Banjie.main` prints "banjie: <message>" to standard error and
/// exits with `exitCode`.
struct CLIError: Error, CustomStringConvertible {
  var exitCode: Int32
  var message: String
  /// The server could not be reached or the connection was lost: the next server of a list
  /// (`--server a,b`) may be tried.
  var failover = false
  var description: String { self.message }

  init(exitCode: Int32, message: String) {
    self.exitCode = exitCode
    self.message = message
  }

  /// A connection that failed, said in one plain line without transport internals: the TLS alert
  /// the server sent when it refused our certificate (revoked, expired, not from the county's
  /// CA: exit 77), or that the server could not be reached (exit 69).
  init(unavailable error: RPCError, server: String) {
    let text = error.message.lowercased()
    if text.contains("alert certificate revoked") {
      self.init(exitCode: 77, message: t("connection.certRevoked"))
    } else if text.contains("alert certificate expired") {
      self.init(exitCode: 77, message: t("connection.certRefusedExpired"))
    } else if text.contains("alert bad certificate") || text.contains("alert unknown ca") || text.contains("alert certificate unknown")
      || text.contains("alert unsupported certificate") || text.contains("alert access denied")
    {
      self.init(exitCode: 77, message: t("connection.certRefused"))
    } else if text.contains("certificate verify failed") {
      self.init(exitCode: 77, message: t("connection.serverCertRefused", server))
    } else if text.contains("connection refused") || text.contains("cannot connect") || text.contains("connection reset")
      || text.contains("timed out") || text.contains("no route") || text.contains("unreachable") || text.contains("resolve")
    {
      self.init(exitCode: 69, message: t("connection.unreachable", server))
    } else {
      self.init(rpc: error)
    }
  }

  init(rpc error: RPCError) {
    // The CLI's own lead-in in the user's language (English: the code's name), then the
    // server's message as it came.
    let code = "\(error.code)"
    let key = "connection.rpc.\(code)"
    let lead = t(key)
    self.message = t("connection.rpc.message", lead == key ? code : lead, error.message)
    // The server's id for this call, to quote when asking about it (its log lines carry it).
    if let requestID = error.metadata[stringValues: "x-request-id"].first(where: { _ in true }), !error.message.contains(requestID) {
      self.message += " " + t("connection.rpc.requestID", requestID)
    }
    switch error.code {
    case .invalidArgument, .failedPrecondition, .notFound, .alreadyExists, .aborted, .outOfRange, .resourceExhausted:
      self.exitCode = 65
    case .unavailable, .deadlineExceeded, .cancelled:
      self.exitCode = 69
    case .permissionDenied, .unauthenticated:
      self.exitCode = 77
    default:
      self.exitCode = 70
    }
  }
}
