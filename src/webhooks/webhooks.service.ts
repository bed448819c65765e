import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import type { Page } from '../common/page.js';
import { isUuid } from '../common/uuid.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type {
  CreateWebhookRequest,
  CreatedWebhook,
  WebhookDeliveryView,
  WebhookEndpointView,
} from '../contracts/rest-admin.js';
import { hostProblem, urlProblem } from './address-guard.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { type EndpointRow, WebhooksRepository } from './webhooks.repository.js';

const toView = (r: EndpointRow): WebhookEndpointView => ({
  id: r.id,
  url: r.url,
  events: r.events,
  description: r.description,
  createdAt: new Date(r.created_at).toISOString(),
});

const invalidUrl = (problem: string): DomainError =>
  DomainError.validation(`The webhook URL ${problem}`, [{ field: 'url', problems: [problem] }]);

/** Admins' webhook endpoints: registration (with the SSRF check), listing, deletion, deliveries. */
@Injectable()
export class WebhooksService {
  private readonly secrets: WebhookSecrets;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WebhooksRepository) private readonly repo: WebhooksRepository,
  ) {
    this.secrets = new WebhookSecrets(config.jwt.secret);
  }

  /**
   * Registers an endpoint; the answer carries its secret, which is never shown again. The URL's
   * host is resolved now: a literal private address or a name resolving to one is refused
   * (unless WEBHOOK_ALLOW_PRIVATE), as is a name that does not resolve. Each delivery checks again.
   */
  async create(req: CreateWebhookRequest): Promise<CreatedWebhook> {
    const problem =
      urlProblem(req.url) ??
      (await hostProblem(new URL(req.url), this.config.webhooks.allowPrivate));
    if (problem) throw invalidUrl(problem);
    const secret = WebhookSecrets.generate();
    const row = await this.repo.insertEndpoint({
      url: req.url,
      events: [...new Set(req.events)],
      description: req.description ?? null,
      secretEnc: this.secrets.encrypt(secret),
    });
    return { ...toView(row), secret };
  }

  async list(): Promise<{ items: WebhookEndpointView[] }> {
    return { items: (await this.repo.listEndpoints()).map(toView) };
  }

  async get(id: string): Promise<WebhookEndpointView> {
    return toView(await this.find(id));
  }

  async delete(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.repo.deleteEndpoint(id))) throw DomainError.notFound('Webhook');
  }

  async deliveries(
    id: string,
    q: { limit?: number; cursor?: string },
  ): Promise<Page<WebhookDeliveryView>> {
    await this.find(id);
    return this.repo.listDeliveries(id, { limit: q.limit ?? 50, cursor: q.cursor });
  }

  private async find(id: string): Promise<EndpointRow> {
    const row = isUuid(id) ? await this.repo.findEndpoint(id) : undefined;
    if (!row) throw DomainError.notFound('Webhook');
    return row;
  }
}
