// The background's one stateful object: it owns the snapshot (link, daemon status, WebRTC, settings) and
// re-derives everything visible from it on each change. Browser APIs arrive in `Env` so unit tests run the
// whole controller against fakes.
import { t } from '../shared/i18n.js';
import type { Event, StatusT } from '../shared/protocol.js';
import { captiveSecondsLeft } from '../shared/protocol.js';
import type { Settings, SettingsStorage } from '../shared/settings.js';
import { applyPatch, DEFAULT_SETTINGS, loadSettings, saveSettings } from '../shared/settings.js';
import type { BrowserPortalState, Connection, Snapshot, WebrtcPolicy, WebrtcView } from '../shared/snapshot.js';
import type { IconKind, ToolbarTheme } from '../shared/state-view.js';
import { stateView } from '../shared/state-view.js';
import type { BackgroundMessage } from '../shared/ui-messages.js';
import { parseUiMessage } from '../shared/ui-messages.js';
import type { NativeClientOptions } from './native-client.js';
import { NativeClient, RequestError } from './native-client.js';
import type { Notice } from './notifier.js';
import { portalNotice, tamperNotice, tunnelDropNotice } from './notifier.js';
import type { WebrtcApi } from './webrtc-apply.js';
import { applyWebrtc } from './webrtc-apply.js';
import { decideWebrtc } from './webrtc-decide.js';

export interface Toolbar {
  render(view: { icon: IconKind; title: string; badgeText: string; badgeColor: string; theme: ToolbarTheme }): Promise<void>;
}

export interface UiPort {
  postMessage(message: BackgroundMessage): void;
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export interface Env {
  browser: 'chrome' | 'firefox';
  storage: SettingsStorage;
  toolbar: Toolbar;
  notify: (notice: Notice) => void;
  webrtc: WebrtcApi;
  /** the IP-handling value protect mode uses in this browser */
  strictPolicy: WebrtcPolicy;
  /** whether a tab of one of these origins is open */
  allowedSiteOpen: (origins: readonly string[]) => Promise<boolean>;
  /** whether WebRTC can be removed from pages right now (Firefox: always; Chromium: block-mode permission) */
  canBlockPeerConnection: () => Promise<boolean>;
  /** the login page to open for the configured address (Firefox: its own canonicalURL for the default) */
  portalUrl: (configured: string) => Promise<string>;
  openTab: (url: string) => Promise<void>;
  native: Omit<NativeClientOptions, 'onChange' | 'onEvent'>;
  /** reports an error that has no user-facing place (named by where it happened) */
  reportError: (where: string, error: unknown) => void;
}

const INITIAL_WEBRTC: WebrtcView = {
  policy: null,
  levelOfControl: null,
  peerConnectionBlocked: false,
  relaxed: false,
  captiveForced: false,
  reason: 'Not applied yet.',
  problem: null,
};

/** storage key of the last colour scheme a page reported (Chromium's worker forgets it when stopped) */
const THEME_KEY = 'toolbarTheme';

export class Controller {
  private theme: ToolbarTheme = 'light';
  /** a live report beats the stored one */
  private themeReported = false;
  private settings: Settings = { ...DEFAULT_SETTINGS };
  private connection: Connection = { kind: 'connecting', since: Date.now() };
  private status: StatusT | null = null;
  private webrtc: WebrtcView = INITIAL_WEBRTC;
  private readonly ui = new Set<UiPort>();
  private readonly native: NativeClient;
  private ticker: ReturnType<typeof setInterval> | null = null;
  /** serialises WebRTC applies so an older decision never lands after a newer one */
  private webrtcChain: Promise<void> = Promise.resolve();
  private started: Promise<void> | null = null;
  private portalState: BrowserPortalState | null = null;
  /** re-decides WebRTC when a hole's kernel timer runs out while the daemon cannot tell us */
  private holeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly env: Env) {
    this.native = new NativeClient({
      ...env.native,
      onChange: (c, s) => this.onNative(c, s),
      onEvent: (e) => this.onEvent(e),
    });
  }

  /** Idempotent: called from top-level code and from onStartup/onInstalled alike. */
  start(): Promise<void> {
    this.started ??= (async () => {
      try {
        this.settings = await loadSettings(this.env.storage);
        if (!this.themeReported && (await this.env.storage.get(THEME_KEY))[THEME_KEY] === 'dark') this.theme = 'dark';
      } catch (e) {
        this.env.reportError('load settings', e);
      }
      // WebRTC protection first, before and independently of the host: it must hold from the first start.
      await this.refreshWebrtc();
      this.native.start();
      await this.render();
    })();
    return this.started;
  }

  snapshot(): Snapshot {
    return {
      connection: this.connection,
      status: this.status,
      webrtc: this.webrtc,
      settings: this.settings,
      browser: this.env.browser,
      portalState: this.portalState,
    };
  }

  attachUi(port: UiPort): void {
    this.ui.add(port);
    port.onDisconnect.addListener(() => this.ui.delete(port));
    port.onMessage.addListener((raw) => void this.onUiMessage(port, raw));
    port.postMessage({ kind: 'snapshot', snapshot: this.snapshot() });
    // Someone is looking: do not make them wait for the backoff timer.
    this.native.retryNow();
  }

  /** The toolbar's colour scheme (Firefox: the background's own matchMedia; Chromium: reported by our pages). */
  setTheme(theme: ToolbarTheme): void {
    this.themeReported = true;
    if (theme === this.theme) return;
    this.theme = theme;
    this.env.storage.set({ [THEME_KEY]: theme }).catch((e: unknown) => this.env.reportError('save toolbar theme', e));
    void this.render();
  }

  /** Something outside the decision changed (a permission was granted): apply again. */
  reapplyWebrtc(): void {
    this.webrtc = INITIAL_WEBRTC;
    void this.refreshWebrtc();
  }

  /** Firefox's captive-portal detection changed its mind (captivePortal.onStateChanged / getState). */
  portalStateChanged(state: BrowserPortalState): void {
    if (state === this.portalState) return;
    const prev = { portal: this.portalState, lock: this.lockState() };
    this.portalState = state;
    const n = portalNotice(prev, { portal: state, lock: this.lockState() }, this.settings);
    if (n) this.env.notify(n);
    this.broadcast();
  }

  /** A tab opened, closed or navigated: the video-call relaxation may start or end. */
  tabsChanged(): void {
    if (this.settings.videoCallSites.length > 0 || this.webrtc.relaxed) void this.refreshWebrtc();
  }

  private async onUiMessage(port: UiPort, raw: unknown): Promise<void> {
    const m = parseUiMessage(raw);
    if (!m) return;
    if (m.kind === 'retry') {
      this.native.retryNow();
      return;
    }
    if (m.kind === 'theme') {
      this.setTheme(m.dark ? 'dark' : 'light');
      return;
    }
    try {
      if (m.kind === 'daemon') {
        const result = await this.native.request(m.request);
        // Only the read-only requests hand their answer to the page; the others show up in the snapshot.
        if (m.request.type === 'selfTest' || m.request.type === 'history') {
          port.postMessage({ kind: 'reply', id: m.id, ok: true, result });
          return;
        }
        // The hole is open (the daemon said so by answering): show the user the network's login page.
        if (m.request.type === 'captiveOpen') await this.openPortal();
      } else if (m.kind === 'openPortal') {
        if (!this.holeOpen()) throw new Error(t('errorNoHole'));
        await this.openPortal();
      } else {
        const r = applyPatch(this.settings, m.patch);
        if (!r.ok) throw new Error(r.error);
        await saveSettings(this.env.storage, r.settings);
        this.settings = r.settings;
        await this.refreshWebrtc();
        this.broadcast();
      }
      port.postMessage({ kind: 'reply', id: m.id, ok: true });
    } catch (e) {
      const error = e instanceof RequestError ? `${e.body.message}${e.body.hint ? ` — ${e.body.hint}` : ''}` : e instanceof Error ? e.message : String(e);
      port.postMessage({ kind: 'reply', id: m.id, ok: false, error });
    }
  }

  private async openPortal(): Promise<void> {
    let url = this.settings.portalUrl;
    try {
      url = await this.env.portalUrl(url);
      await this.env.openTab(url);
    } catch (e) {
      throw new Error(t('errorPortalTab', e instanceof Error ? e.message : String(e), url));
    }
  }

  private onNative(connection: Connection, status: StatusT | null): void {
    const prev = this.status;
    const prevLock = this.lockState();
    this.connection = connection;
    this.status = status;
    if (status && connection.kind === 'ready' && prev !== status) {
      const n = tunnelDropNotice(prev, status, this.settings);
      if (n) this.env.notify(n);
      const p = portalNotice({ portal: this.portalState, lock: prevLock }, { portal: this.portalState, lock: status.state }, this.settings);
      if (p) this.env.notify(p);
    }
    void this.render();
    void this.refreshWebrtc();
  }

  private onEvent(e: Event): void {
    const n = tamperNotice(e, this.settings);
    if (n) this.env.notify(n);
  }

  private lockState() {
    return this.connection.kind === 'ready' && this.status ? this.status.state : null;
  }

  /**
   * A captive hole is open, or may still be: with the link up the daemon's state says so; with the link down
   * the last known hole counts until its kernel timer runs out (never relax on a guess).
   */
  private holeOpen(now = Date.now()): boolean {
    const c = this.status?.captive;
    if (!c || c.expiresAt <= now) return false;
    return this.connection.kind === 'ready' ? this.status?.state === 'exception' : true;
  }

  private armHoleTimer(): void {
    if (this.holeTimer) clearTimeout(this.holeTimer);
    this.holeTimer = null;
    const c = this.status?.captive;
    if (!c || !this.webrtc.captiveForced) return;
    this.holeTimer = setTimeout(() => void this.refreshWebrtc(), Math.max(0, c.expiresAt - Date.now()) + 250);
  }

  private refreshWebrtc(): Promise<void> {
    this.webrtcChain = this.webrtcChain.then(async () => {
      try {
        const sites = this.settings.videoCallSites;
        const allowedSiteOpen = sites.length > 0 && (await this.env.allowedSiteOpen(sites));
        const captiveHoleOpen = this.holeOpen();
        const canBlockPeerConnection = captiveHoleOpen && (await this.env.canBlockPeerConnection().catch(() => false));
        const decision = decideWebrtc({
          mode: this.settings.webrtc,
          lockState: this.lockState(),
          allowedSiteOpen,
          strict: this.env.strictPolicy,
          captiveHoleOpen,
          canBlockPeerConnection,
        });
        const w = this.webrtc;
        // Skip the browser round-trip when nothing would change.
        if (
          w !== INITIAL_WEBRTC &&
          w.reason === decision.reason &&
          w.relaxed === decision.relaxed &&
          w.captiveForced === decision.captiveForced &&
          w.peerConnectionBlocked === decision.blockPeerConnection &&
          w.problem === null
        ) {
          return;
        }
        this.webrtc = await applyWebrtc(this.env.webrtc, decision);
        this.armHoleTimer();
        this.broadcast();
      } catch (e) {
        this.env.reportError('apply WebRTC setting', e);
      }
    });
    return this.webrtcChain;
  }

  private secondsLeft(): number | undefined {
    const c = this.status?.captive;
    return c ? captiveSecondsLeft(c, Date.now()) : undefined;
  }

  private async render(): Promise<void> {
    const view = stateView(this.connection, this.status, this.secondsLeft());
    const counting = this.connection.kind === 'ready' && this.status?.state === 'exception';
    if (counting && !this.ticker) this.ticker = setInterval(() => void this.render(), 1000);
    if (!counting && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    this.broadcast();
    try {
      await this.env.toolbar.render({ ...view, theme: this.theme });
    } catch (e) {
      this.env.reportError('update toolbar', e);
    }
  }

  private broadcast(): void {
    const message: BackgroundMessage = { kind: 'snapshot', snapshot: this.snapshot() };
    for (const port of this.ui) {
      try {
        port.postMessage(message);
      } catch {
        this.ui.delete(port);
      }
    }
  }
}
