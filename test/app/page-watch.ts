// What the browser did and said, for every page of a context: requests (method and URL), main-frame
// navigations, and the problems a user would see in the developer tools (console errors and warnings,
// uncaught exceptions). Console texts name URLs and codes only: the client never logs a token.
import type { BrowserContext, Page } from 'playwright-core'

export interface Problem {
  /** The page's URL when it happened. */
  page: string
  text: string
}

/** A problem a test provoked on purpose (a refused cross-site request), and so expects. */
export interface Expected {
  page: RegExp
  text: RegExp
}

export class ContextWatch {
  readonly problems: Problem[] = []
  readonly requests: { method: string; url: string }[] = []
  /** Every URL a page of this context showed (full loads and Turbo's history changes). */
  readonly visited: string[] = []

  constructor(context: BrowserContext) {
    context.on('page', (page) => this.#watch(page))
  }

  #watch(page: Page): void {
    page.on('console', (message) => {
      const type = message.type()
      if (type === 'error' || type === 'warning') {
        this.problems.push({ page: page.url(), text: `${type}: ${message.text()}` })
      }
    })
    page.on('pageerror', (error) =>
      this.problems.push({ page: page.url(), text: `uncaught: ${error.message}` }),
    )
    page.on('request', (request) => this.requests.push({ method: request.method(), url: request.url() }))
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.visited.push(frame.url())
    })
  }

  /** Requests so far with this method to this exact URL (query included). */
  count(method: string, url: string): number {
    return this.requests.filter((r) => r.method === method && r.url === url).length
  }

  /** Problems not in `expected`, as lines (empty when the pages were clean). */
  unexpected(expected: readonly Expected[] = []): string[] {
    return this.problems
      .filter((p) => !expected.some((e) => e.page.test(p.page) && e.text.test(p.text)))
      .map((p) => `${p.page}: ${p.text}`)
  }
}
