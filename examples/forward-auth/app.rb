# A backend that knows nothing of JWTs: it trusts the identity headers that the proxy in front of it
# sets (nginx auth_request, Caddy forward_auth, or `jwks-bridge serve` with UPSTREAM_URL), and prints
# the X-Auth-Subject it receives. Run: PORT=4000 ruby app.rb
require 'rack'
require 'webrick'
require 'cgi'
require 'uri'

h = ->(value) { CGI.escapeHTML(value.to_s) }
# Identity header values are percent-encoded when they are not plain visible ASCII (docs/forward-auth.md).
decode = ->(value) { value && URI.decode_www_form_component(value.gsub('+', '%2B')) }

app = lambda do |env|
  subject = decode.(env['HTTP_X_AUTH_SUBJECT'])
  $stdout.puts("#{env['REQUEST_METHOD']} #{env['PATH_INFO']} subject=#{subject.inspect}")
  $stdout.flush
  if env['PATH_INFO'] == '/whoami'
    next [200, { 'content-type' => 'text/plain' }, ["subject=#{subject}\n"]]
  end
  # The meta tags for the browser script, from the headers jwks-bridge's reverse proxy sends with a
  # page load (with nginx or Caddy, the bridge's own /auth/sign-in page carries them instead).
  meta = ''
  if env['HTTP_X_AUTH_AUTHENTICATION_URL']
    meta = <<~HTML
      <meta name="authentication-url" content="#{h.(env['HTTP_X_AUTH_AUTHENTICATION_URL'])}">
      <meta name="has-session" content="#{h.(env['HTTP_X_AUTH_HAS_SESSION'])}">
      <meta name="csrf-token" content="#{h.(env['HTTP_X_AUTH_CSRF_TOKEN'])}">
    HTML
  end
  body = <<~HTML
    <!doctype html>
    <html><head><meta charset="utf-8"><title>Ruby app</title>
    #{meta}</head>
    <body><h1>Ruby app</h1>
    <p>Signed in as <strong id="subject">#{h.(subject || '')}</strong></p>
    <p id="path">#{h.(env['PATH_INFO'])}</p></body></html>
  HTML
  [200, { 'content-type' => 'text/html; charset=utf-8' }, [body]]
end

Rack::Handler::WEBrick.run(
  app,
  Host: '127.0.0.1',
  Port: Integer(ENV.fetch('PORT')),
  AccessLog: [],
  Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN),
)
