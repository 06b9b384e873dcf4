import ArgumentParser
import BanjieConfig
import BanjieCore
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore

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
    var host: String
    var port: Int
    var serverName: String?
    var ca: String
    var cert: String
    var key: String
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
    let server = pick(self.server, "server", "BANJIE_SERVER") ?? "127.0.0.1:7443"
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]), (1...65535).contains(port) else {
      throw ValidationError(t("connection.error.server", server))
    }
    var host = String(server[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard let ca = pick(self.ca, "ca", "BANJIE_CA") else {
      throw ValidationError(t("connection.error.noCA"))
    }
    guard let cert = pick(self.cert, "cert", "BANJIE_CERT"), let key = pick(self.key, "key", "BANJIE_KEY") else {
      throw ValidationError(t("connection.error.noCert"))
    }
    return Resolved(host: host, port: port, serverName: self.serverName ?? profileValues["server_name"], ca: ca, cert: cert, key: key)
  }

  var callOptions: CallOptions {
    var options = CallOptions.defaults
    options.timeout = .milliseconds(Int64(self.timeout * 1000))
    return options
  }

  /// Runs `body` with a connected client. An `RPCError` it throws reaches `Banjie.main`, which
  /// turns it into a `CLIError` with the documented exit code.
  func withClient<R: Sendable>(_ body: (GRPCClient<BanjieClientTransport>, BanjieClientTransport, Resolved) async throws -> R) async throws
    -> R
  {
    let resolved = try self.resolve()
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
    let transport = BanjieClientTransport(config: config)
    do {
      return try await withGRPCClient(transport: transport, interceptors: [LanguageInterceptor()]) { client in
        try await body(client, transport, resolved)
      }
    } catch let error as RPCError where error.code == .unavailable {
      throw CLIError(unavailable: error, server: "\(resolved.host):\(resolved.port)")
    }
  }
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
