// XEP-0352 Client State Indication on the client: the application says
// whether the user is looking (setActive), the client tells the server when
// it offers the feature, and says it again on every new session (the server
// starts each one active, §4; a resumed one keeps its state).

import { xml, type Element } from '@switchboard/xml';

export const NS_CSI = 'urn:xmpp:csi:0';

export class ClientStateIndication {
  private active = true;

  constructor(
    private readonly write: (nonza: Element) => void,
    /** The stream features of the current session, if online. */
    private readonly features: () => Element | undefined,
  ) {}

  /** The state the application last set. */
  get isActive(): boolean {
    return this.active;
  }

  /** Records the state and sends it when the server offers CSI; false when it does not (nothing was sent). */
  set(active: boolean): boolean {
    const changed = active !== this.active;
    this.active = active;
    return changed ? this.send() : this.offered();
  }

  /** A new session begins active; tell the server if the application is not (§4). */
  sessionStarted(): void {
    if (!this.active) this.send();
  }

  private offered(): boolean {
    return this.features()?.getChild('csi', NS_CSI) !== undefined;
  }

  private send(): boolean {
    if (!this.offered()) return false;
    this.write(xml(this.active ? 'active' : 'inactive', { xmlns: NS_CSI }));
    return true;
  }
}
